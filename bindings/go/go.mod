module github.com/libstoretasks/libstoretasks/bindings/go

go 1.24
