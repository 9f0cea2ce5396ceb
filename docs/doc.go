// Package docs is the operator documentation of ampsflume: the user guide
// (Markdown files in this directory) and the configuration reference under
// reference/, which is generated from the component specs. After changing a
// component's Spec, regenerate the reference with
//
//	go generate ./docs/...
//
// The package's test fails while the committed reference is stale.
package docs

//go:generate go run ampsflume/internal/cmd/docgen -dir reference
