// Package interceptors holds Flume's built-in interceptors: timestamp, host,
// static, regex_filter, regex_extractor, remove_header, and the uuid
// interceptor that Flume ships with its Solr sink. Each registers under
// Flume's alias and its Java builder class name, with Flume's keys and
// defaults.
//
// Interceptors run on the source's goroutine, in the configured order, before
// channel selection. They set or remove headers in place; regex_filter drops
// events by returning nil. They hold no locks and are safe for concurrent use.
//
// Regular expressions use Go's RE2 syntax, which covers the usual Java
// patterns except back-references and look-around; a pattern Go cannot
// compile is a configuration error naming the key.
package interceptors
