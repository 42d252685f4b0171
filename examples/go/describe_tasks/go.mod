module describe_tasks

go 1.24

require storetasks v0.0.0

replace storetasks => ../../../bindings/go
