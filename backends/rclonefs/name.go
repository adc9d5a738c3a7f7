package rclonefs

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config/configmap"
	"github.com/rclone/rclone/fs/config/obscure"
	"github.com/rclone/rclone/fs/fspath"
)

// Secrets from connection strings are kept out of String, errors and log
// lines in two ways. Names are built from the parsed remote, keeping only
// parameters that cannot be secret (sanitizeParams). And every secret value
// met while doing so is remembered, so that redact can blank it wherever
// rclone quotes it (it logs the remote string it opens, and errors may echo
// a URL).

// minSecret is the shortest value redact blanks: blanking every "a" or "1"
// in log lines would make them unreadable, and values that short protect
// nothing.
const minSecret = 3

var redactions struct {
	sync.RWMutex
	pairs map[string]string // old -> new
	r     *strings.Replacer
}

// addRedaction makes redact replace old by new.
func addRedaction(old, new string) {
	if len(old) < minSecret {
		return
	}
	redactions.Lock()
	defer redactions.Unlock()
	if redactions.pairs == nil {
		redactions.pairs = make(map[string]string)
	}
	if _, ok := redactions.pairs[old]; ok {
		return
	}
	redactions.pairs[old] = new
	// Longest first, so that a whole connection string is replaced by
	// its name before a secret inside it is blanked.
	olds := make([]string, 0, len(redactions.pairs))
	for o := range redactions.pairs {
		olds = append(olds, o)
	}
	slices.SortFunc(olds, func(a, b string) int { return len(b) - len(a) })
	args := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		args = append(args, o, redactions.pairs[o])
	}
	redactions.r = strings.NewReplacer(args...)
}

// addSecret makes redact blank s, in the forms it may be quoted in.
func addSecret(s string) {
	for _, form := range []string{s, quotedForm(s), url.QueryEscape(s), url.PathEscape(s)} {
		addRedaction(form, "***")
	}
}

func quotedForm(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// redact blanks every secret seen so far in s.
func redact(s string) string {
	redactions.RLock()
	defer redactions.RUnlock()
	if redactions.r == nil {
		return s
	}
	return redactions.r.Replace(s)
}

// secretName matches option names that may hold a credential even where the
// backend does not mark them Sensitive (headers carrying a token, say).
// Dropping a harmless option from a name only makes names less distinct.
func secretName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"pass", "secret", "token", "key", "auth", "header", "cookie", "credential", "sas", "sign", "cert", "private"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// userName reports whether the option k holds a user name: an option rclone
// knows, not a password nor named like a secret, with "user" in its name.
func userName(opt *fs.Option, k string) bool {
	return opt != nil && !opt.IsPassword && !secretName(k) && strings.Contains(strings.ToLower(k), "user")
}

// findOption finds a connection-string parameter among the backend's
// options, or among rclone's global ones for "global." and "override."
// parameters.
func findOption(info *fs.RegInfo, key string) *fs.Option {
	opts := fs.Options(nil)
	if info != nil {
		opts = info.Options
	}
	for _, prefix := range []string{"global.", "override."} {
		if k, ok := strings.CutPrefix(key, prefix); ok {
			key, opts = k, fs.ConfigOptionsInfo
		}
	}
	for i := range opts {
		if opts[i].Name == key {
			return &opts[i]
		}
	}
	return nil
}

// sanitizeParams renders a connection string's parameters, sorted, as
// ",k=v,...", leaving out every one that is or may be secret and
// remembering their values for redact. info may be nil (unknown backend):
// then every parameter is left out.
func sanitizeParams(info *fs.RegInfo, cfg configmap.Simple) string {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		v := cfg[k]
		opt := findOption(info, k)
		if opt == nil || opt.Sensitive || opt.IsPassword || secretName(k) {
			// A flag's value is no secret, and blanking every "true"
			// in the logs would hide more than it protects. Nor is a
			// user name, which rclone marks sensitive but which is
			// often a word that paths hold too ("ferry", "notes").
			if v != "true" && v != "false" && !userName(opt, k) {
				addSecret(v)
				if revealed, err := obscure.Reveal(v); err == nil {
					addSecret(revealed)
				}
			}
			continue
		}
		b.WriteString(",")
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(quoteParam(sanitizeValue(v)))
	}
	return b.String()
}

// sanitizeValue strips what may be secret from a parameter's value: the
// userinfo and query of a URL, and the secret parameters of a remote nested
// in it (crypt's remote=, union's upstreams=).
func sanitizeValue(v string) string {
	if strings.ContainsAny(v, " \t") {
		fields := strings.Fields(v)
		for i, f := range fields {
			fields[i] = sanitizeValue(f)
		}
		return strings.Join(fields, " ")
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		if u.User != nil {
			// The user name is left out of the name, but not blanked
			// in text: see userName.
			if p, ok := u.User.Password(); ok {
				addSecret(u.User.String())
				addSecret(p)
			}
			u.User = nil
		}
		if u.RawQuery != "" {
			addSecret(u.RawQuery)
			u.RawQuery = ""
		}
		u.Fragment, u.RawFragment = "", ""
		return u.String()
	}
	if strings.Contains(v, ":") {
		return sanitizeRemote(v)
	}
	return v
}

// sanitizeRemote returns remote with the secret parameters of its
// connection string left out and remembered for redact. A remote that is
// not a connection string is returned as it is.
func sanitizeRemote(remote string) string {
	parsed, err := fspath.Parse(remote)
	if err != nil || parsed.Name == "" || len(parsed.Config) == 0 {
		return remote
	}
	info, _, _, _, err := fs.ParseRemote(remote)
	if err != nil {
		info = nil
	}
	safe := parsed.Name + sanitizeParams(info, parsed.Config) + ":" + parsed.Path
	// rclone logs the whole string it opens; replace it by the safe form.
	addRedaction(remote, safe)
	addRedaction(quotedForm(remote), quotedForm(safe))
	return safe
}

// quoteParam quotes a parameter value as rclone's connection strings do,
// where it would otherwise end the parameter.
func quoteParam(v string) string {
	if v != "" && !strings.ContainsAny(v, `,:'"`) {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// canonicalName is the name a Replica reports: root alone for a local path,
// else the remote's name, its non-secret parameters, ":" and root.
func canonicalName(parsed fspath.Parsed, info *fs.RegInfo, root string) string {
	if parsed.Name == "" {
		return root
	}
	return parsed.Name + sanitizeParams(info, parsed.Config) + ":" + root
}

// shortRemote is as much of a remote as is safe to quote before it could
// be parsed: up to its first parameter.
func shortRemote(remote string) string {
	if i := strings.IndexByte(remote, ','); i >= 0 {
		return remote[:i] + ",…"
	}
	return remote
}
