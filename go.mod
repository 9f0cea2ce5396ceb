module ampsflume

go 1.26.8

require (
	github.com/coder/websocket v1.8.14 // indirect
	github.com/google/btree v1.1.3 // indirect
	go.uber.org/goleak v1.3.0 // indirect
)
