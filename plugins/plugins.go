// Package plugins links every built-in component into a binary: importing it
// for its side effects registers all sources, channels, sinks and
// interceptors with the flume registry, the way Flume's lib/ directory puts
// every component on the class path.
package plugins

import (
	_ "ampsflume/channels/file"
	_ "ampsflume/channels/kafka"
	_ "ampsflume/channels/memory"
	_ "ampsflume/channels/sql"
	_ "ampsflume/interceptors"
	_ "ampsflume/sinks/amps"
	_ "ampsflume/sinks/avro"
	_ "ampsflume/sinks/fileroll"
	_ "ampsflume/sinks/hdfs"
	_ "ampsflume/sinks/kafka"
	_ "ampsflume/sinks/logger"
	_ "ampsflume/sinks/null"
	_ "ampsflume/sources/amps"
	_ "ampsflume/sources/avro"
	_ "ampsflume/sources/netcat"
	_ "ampsflume/sources/seq"
)
