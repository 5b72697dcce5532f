TO_HEX({col})
