module storetasks

go 1.24
