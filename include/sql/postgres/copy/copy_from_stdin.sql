COPY {target} ({columns}) FROM STDIN
