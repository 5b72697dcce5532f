ENCODE({col}, 'hex')
