package filters

// This file reads a pattern the way rclone v1.76 does. The two functions are
// ports of globToRegexp and globToDirGlobs in rclone's fs/filter/glob.go
// (MIT licence, Copyright (C) 2012 by Nick Craig-Wood), reduced to the path
// mode that filters use. Keeping rclone's exact reading, including its
// quirks and its errors, is what makes a pattern mean the same in ferry and
// in rclone; compile.go then turns the regular expression into a glob
// matcher.

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
)

// globToRegexp returns the regular expression rclone builds for a pattern,
// split into its parts: whether the pattern is anchored at the root (it
// started with "/"), and the body, without rclone's "(^|/)" or "^" in front
// and "$" behind.
//
// trailingEscape reports a pattern ending in an unescaped "\": rclone then
// writes "\$", a literal dollar with no end anchor, which ferry refuses.
func globToRegexp(glob string) (anchored bool, body string, trailingEscape bool, err error) {
	var re bytes.Buffer
	if strings.HasPrefix(glob, "/") {
		glob = glob[1:]
		anchored = true
	}
	consecutiveStars := 0
	insertStars := func() error {
		switch consecutiveStars {
		case 0:
		case 1:
			re.WriteString(`[^/]*`)
		case 2:
			re.WriteString(`.*`)
		default:
			return errors.New("too many stars (at most two in a row)")
		}
		consecutiveStars = 0
		return nil
	}
	overwriteLastChar := func(c byte) {
		buf := re.Bytes()
		buf[len(buf)-1] = c
	}
	braceDepth := 0
	inBrackets := 0
	bracketStart := false   // just opened a character class
	bracketNegated := false // just read the ! or ^ of [! or [^
	slashed := false
	inRegexp := false    // inside {{ ... }}
	inRegexpEnd := false // have read }} and wait for more }
	var next, last rune
	for _, c := range glob {
		next, last = c, next
		if slashed {
			re.WriteRune(c)
			slashed = false
			continue
		}
		if inRegexpEnd {
			if c == '}' {
				// }}} and more: the regexp ends at the last }}.
				overwriteLastChar('}')
				re.WriteByte(')')
				continue
			}
			inRegexpEnd = false
		}
		if inRegexp {
			if c == '}' && last == '}' {
				inRegexp = false
				inRegexpEnd = true
				overwriteLastChar(')')
			} else {
				re.WriteRune(c)
			}
			continue
		}
		if c != '*' {
			if err := insertStars(); err != nil {
				return false, "", false, err
			}
		}
		if inBrackets > 0 {
			if bracketStart && (c == '!' || c == '^') {
				// [!...] and [^...] never match the separator.
				bracketStart = false
				bracketNegated = true
				re.WriteString("^/")
				continue
			}
			if bracketNegated && c == ']' {
				return false, "", false, errors.New("empty character class")
			}
			bracketStart = false
			bracketNegated = false
			re.WriteRune(c)
			if c == '[' {
				inBrackets++
			}
			if c == ']' {
				inBrackets--
			}
			continue
		}
		switch c {
		case '\\':
			re.WriteRune(c)
			slashed = true
		case '*':
			consecutiveStars++
		case '?':
			re.WriteString(`[^/]`)
		case '[':
			re.WriteRune(c)
			inBrackets++
			bracketStart = true
		case ']':
			return false, "", false, errors.New("mismatched ']'")
		case '{':
			if braceDepth > 0 && last == '{' {
				// {{ opens a regular expression; the '(' of the first
				// { wraps it.
				inRegexp = true
				braceDepth--
			} else {
				braceDepth++
				re.WriteByte('(')
			}
		case '}':
			if braceDepth <= 0 {
				return false, "", false, errors.New("mismatched '{' and '}'")
			}
			re.WriteByte(')')
			braceDepth--
		case ',':
			if braceDepth > 0 {
				re.WriteByte('|')
			} else {
				re.WriteRune(c)
			}
		case '.', '+', '(', ')', '|', '^', '$':
			re.WriteByte('\\')
			re.WriteRune(c)
		default:
			re.WriteRune(c)
		}
	}
	if err := insertStars(); err != nil {
		return false, "", false, err
	}
	if inBrackets > 0 {
		return false, "", false, errors.New("mismatched '[' and ']'")
	}
	if braceDepth != 0 {
		return false, "", false, errors.New("mismatched '{' and '}'")
	}
	if inRegexp {
		return false, "", false, errors.New("mismatched '{{' and '}}'")
	}
	return anchored, re.String(), slashed, nil
}

var (
	// tooHardRe finds the patterns rclone cannot derive directory rules
	// from: "/" or "**" inside {}, {{ regexp }}, nested {}.
	tooHardRe = regexp.MustCompile(`({[^{}]*(\*\*|/)[^{}]*})|\{\{|\}\}|\{[^{}]*\{`)

	squashSlash = regexp.MustCompile(`/{2,}`)
)

// globToDirGlobs turns a file pattern into the directory patterns that
// could lead to a file it matches: "/a/b/*.jpg" gives "/a/b/" and "/a/".
// Matched against a directory name with a trailing "/", they answer whether
// the pattern could match something below that directory. A pattern whose
// directories cannot be worked out gives "/**", any directory.
func globToDirGlobs(glob string) (out []string) {
	if tooHardRe.MatchString(glob) {
		return []string{"/**"}
	}
	glob = squashSlash.ReplaceAllString(glob, "/")
	for {
		i := strings.LastIndex(glob, "/")
		j := strings.LastIndex(glob, "**")
		what := ""
		if j > i {
			i = j
			what = "**"
		}
		if i < 0 {
			if len(out) == 0 {
				out = append(out, "/**")
			}
			break
		}
		glob = glob[:i]
		newGlob := glob + what + "/"
		if len(out) == 0 || out[len(out)-1] != newGlob {
			out = append(out, newGlob)
		}
	}
	return out
}
