package cli

import (
	"fmt"
	"io"
	"strings"
	"text/template"

	"ampsflume/internal/docgen"
)

// completionData is what the completion scripts are generated from: the
// command line as this file declares it and the types of the catalogue, so a
// new component is completed without editing the scripts.
type completionData struct {
	Commands     []string
	AgentFlags   []string
	ChanFlags    []string
	Types        []string
	Descriptions map[string]string
	ConfProvider string
	AuthProvider string
}

var commandHelp = map[string]string{
	"agent":      "run a Flume agent",
	"validate":   "check a configuration and print its topology",
	"help":       "display help, or the keys of a component type",
	"version":    "show version info",
	"channel":    "verify or repair a stopped file channel",
	"completion": "print a shell completion script",
}

func newCompletionData() completionData {
	return completionData{
		Commands:     []string{"agent", "validate", "help", "version", "channel", "completion"},
		AgentFlags:   []string{"-n", "--name", "-f", "--conf-file", "-u", "--conf-uri", "--conf-user", "--conf-password", "-b", "--backup-directory", "--conf-provider", "-a", "--auth-provider", "-c", "--conf", "-D", "--no-reload-conf", "-i", "--poll-interval", "-h", "--help"},
		ChanFlags:    []string{"-c", "--checkpointDir", "-d", "--dataDirs", "--backupCheckpointDir", "-f", "--conf-file", "-n", "--name", "--channel"},
		Types:        docgen.Aliases(),
		Descriptions: commandHelp,
		ConfProvider: defaultConfProvider,
		AuthProvider: defaultAuthProvider,
	}
}

var funcs = template.FuncMap{"join": strings.Join}

var bashScript = template.Must(template.New("bash").Funcs(funcs).Parse(`# bash completion for flume-ng; load it with
#   source <(flume-ng completion bash)
# or install it as /etc/bash_completion.d/flume-ng.
_flume_ng() {
    local cur prev cmd
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev=""
    if [ "$COMP_CWORD" -gt 0 ]; then
        prev="${COMP_WORDS[COMP_CWORD-1]}"
    fi
    COMPREPLY=()
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=( $(compgen -W "{{join .Commands " "}}" -- "$cur") )
        return 0
    fi
    cmd="${COMP_WORDS[1]}"
    case "$prev" in
        -f|--conf-file)
            COMPREPLY=( $(compgen -f -- "$cur") )
            return 0 ;;
        -c|--conf|--checkpointDir|-d|--dataDirs|--backupCheckpointDir|-b|--backup-directory)
            COMPREPLY=( $(compgen -d -- "$cur") )
            return 0 ;;
        -u|--conf-uri)
            COMPREPLY=( $(compgen -W "http:// https:// file://" -- "$cur") )
            return 0 ;;
        --conf-provider)
            COMPREPLY=( $(compgen -W "{{.ConfProvider}}" -- "$cur") )
            return 0 ;;
        -a|--auth-provider)
            COMPREPLY=( $(compgen -W "{{.AuthProvider}}" -- "$cur") )
            return 0 ;;
        -n|--name|-i|--poll-interval|--channel|--conf-user|--conf-password)
            return 0 ;;
    esac
    case "$cmd" in
        agent|validate)
            COMPREPLY=( $(compgen -W "{{join .AgentFlags " "}}" -- "$cur") ) ;;
        help)
            if [ "$COMP_CWORD" -eq 2 ]; then
                COMPREPLY=( $(compgen -W "{{join .Types " "}}" -- "$cur") )
            fi ;;
        channel)
            if [ "$COMP_CWORD" -eq 2 ]; then
                COMPREPLY=( $(compgen -W "verify repair" -- "$cur") )
            else
                COMPREPLY=( $(compgen -W "{{join .ChanFlags " "}}" -- "$cur") )
            fi ;;
        completion)
            if [ "$COMP_CWORD" -eq 2 ]; then
                COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") )
            fi ;;
    esac
    return 0
}
complete -F _flume_ng flume-ng
`))

var zshScript = template.Must(template.New("zsh").Funcs(funcs).Parse(`#compdef flume-ng
# zsh completion for flume-ng; load it with
#   source <(flume-ng completion zsh)
# (after compinit), or save it as _flume_ng in a directory of $fpath.
_flume_ng() {
    local -a commands types
    commands=({{range .Commands}}'{{.}}:{{index $.Descriptions .}}' {{end}})
    types=({{join .Types " "}})
    if (( CURRENT == 2 )); then
        _describe 'command' commands
        return
    fi
    case "${words[CURRENT-1]}" in
        -f|--conf-file) _files; return ;;
        -c|--conf|--checkpointDir|-d|--dataDirs|--backupCheckpointDir|-b|--backup-directory) _files -/; return ;;
        -u|--conf-uri) compadd -S '' -- http:// https:// file://; return ;;
        --conf-provider) compadd -- {{.ConfProvider}}; return ;;
        -a|--auth-provider) compadd -- {{.AuthProvider}}; return ;;
        -n|--name|-i|--poll-interval|--channel|--conf-user|--conf-password) return ;;
    esac
    case "${words[2]}" in
        agent|validate) compadd -- {{join .AgentFlags " "}} ;;
        help) (( CURRENT == 3 )) && compadd -a types ;;
        channel)
            if (( CURRENT == 3 )); then
                compadd verify repair
            else
                compadd -- {{join .ChanFlags " "}}
            fi ;;
        completion) (( CURRENT == 3 )) && compadd bash zsh ;;
    esac
}
if [ "$funcstack[1]" = "_flume_ng" ]; then
    _flume_ng "$@"
else
    compdef _flume_ng flume-ng
fi
`))

// runCompletion prints the completion script of a shell.
func runCompletion(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "Usage: flume-ng completion bash|zsh")
		return 2
	}
	var t *template.Template
	switch args[0] {
	case "bash":
		t = bashScript
	case "zsh":
		t = zshScript
	default:
		fmt.Fprintf(stderr, "flume-ng completion: unsupported shell %q: use bash or zsh\n", args[0])
		return 2
	}
	if err := t.Execute(stdout, newCompletionData()); err != nil {
		fmt.Fprintf(stderr, "flume-ng completion: %v\n", err)
		return 1
	}
	return 0
}
