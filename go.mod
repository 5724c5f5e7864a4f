module github.com/wardenrpc/warden

go 1.24
