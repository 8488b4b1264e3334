"""Survey microdata as analysts hold them: a delivery's files (SPSS, Stata, Excel, CSV) read through a codebook
into the project's survey tables, checked before any kernel starts.

- ``formats``: read a file as it is (raw codes, variable and value labels, declared missing values).
- ``codebook``: the TOML file where the delivery's variables and codes meet the project's columns.
- ``mapping``: apply the codebook: the tables, and a report of rows, codes, non-response by reason and n.
- ``check``: the report ``kommunelab microdata check`` prints, and the problems that stop a build.
- ``draft``: ``kommunelab microdata init``: a draft codebook from variable and value labels.
- ``stand_in``: whether a delivery is the project's stand-in in disguise.
"""
