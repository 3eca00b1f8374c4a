package lab

import (
	"fmt"
	"strings"
)

// substituteEnv expands ${VAR}, ${VAR:=def}, ${VAR:-def}, ${VAR=def} and
// ${VAR-def} in s from env, as containerlab does with its topology files.
// An unset variable without a default becomes the empty string
// (containerlab's behaviour). A bare $VAR is left untouched so shell
// commands in exec keep their own variables, and "$${" escapes to a
// literal "${".
func substituteEnv(s string, env map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // "$${": escaped
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ at offset %d", i)
		}
		expr := s[i+2 : i+end]
		s = s[i+end+1:]
		v, err := expandOne(expr, env)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
}

func expandOne(expr string, env map[string]string) (string, error) {
	name, op, def := expr, "", ""
	if j := strings.IndexAny(expr, ":=-"); j >= 0 {
		name = expr[:j]
		rest := expr[j:]
		switch {
		case strings.HasPrefix(rest, ":="), strings.HasPrefix(rest, ":-"):
			op, def = rest[:2], rest[2:]
		case rest[0] == '=' || rest[0] == '-':
			op, def = rest[:1], rest[1:]
		default:
			return "", fmt.Errorf("${%s}: unsupported expansion", expr)
		}
	}
	if !validEnvName(name) {
		return "", fmt.Errorf("${%s}: bad variable name %q", expr, name)
	}
	v, set := env[name]
	switch op {
	case ":=", ":-":
		if v == "" {
			return def, nil
		}
	case "=", "-":
		if !set {
			return def, nil
		}
	}
	return v, nil
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
