module goshape

go 1.19
