// Package compare runs the scenarios of package scenario side by side and
// reports them: every side of every run executes in a child process of its
// own (the running binary re-executed with -run-scenario and -side), the
// sides alternate from run to run so that drift on a shared machine hits
// both, and the report gives medians with min–max, the ratio ours/peer
// against each scenario's target, peak RSS (VmHWM through rusage) and CPU
// seconds per million messages of each side.
//
// The report is printed and, when asked, written between the
// <!-- compare:begin --> and <!-- compare:end --> markers of a Markdown file,
// leaving the rest of the file as it was.
package compare
