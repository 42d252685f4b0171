module describe_tasks

go 1.24

require github.com/libstoretasks/libstoretasks/bindings/go v0.0.0

replace github.com/libstoretasks/libstoretasks/bindings/go => ../../../bindings/go
