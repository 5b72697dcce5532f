COPY (SELECT {columns} FROM {source}) TO STDOUT
