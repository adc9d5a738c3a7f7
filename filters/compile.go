package filters

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gobwas/glob"
)

// A pattern goes from rclone's syntax to a gobwas/glob matcher in three
// steps:
//
//  1. globToRegexp reads it exactly as rclone does, into the regular
//     expression rclone would match with (glob.go);
//  2. regexp/syntax parses that expression, which settles what every
//     character class, escape and {{ regexp }} means, the way Go's regexp
//     (and so rclone) understands it;
//  3. render writes the parsed expression back as a gobwas/glob pattern
//     with "/" as the separator, or says why it cannot.
//
// Step 3 is exact: "[^/]*" becomes "*", "[^/]" becomes "?", a class becomes
// a glob class or a group of them, an alternation a {,} group. The one
// approximation is ".*" (rclone's "**"), which does not match a newline in
// rclone and becomes gobwas's "**", which does; see docs/filters.md.

// maxGlobLen bounds the glob text one pattern may expand to (a {{ }} block
// with a large class or a counted repetition can grow a lot).
const maxGlobLen = 256 << 10

// A matcher is one compiled pattern.
//
// rclone matches an unanchored pattern X as "(^|/)X$": X must match the
// whole path or a part of it that starts after a "/". Rather than a glob
// "{,**/}X", which costs a backtracking walk on every path, the matcher
// tries X on those parts of the path, and only on the parts with a number
// of "/" that X can match: for "*.md" (no "/") that is just the last
// element.
type matcher struct {
	g        *glob.Pattern
	anchored bool // the pattern started with "/": match the whole path only
	minSlash int  // the fewest "/" a string X matches can hold
	maxSlash int  // the most, or -1 for no limit
}

func (m *matcher) Match(s string) bool {
	if m.anchored {
		return m.slashesFit(strings.Count(s, "/")) && m.g.Match(s)
	}
	// The parts of s after each "/", from the shortest.
	slashes := 0
	for i := len(s); ; i-- {
		if i == 0 || s[i-1] == '/' {
			if m.slashesFit(slashes) && m.g.Match(s[i:]) {
				return true
			}
			if i == 0 || (m.maxSlash >= 0 && slashes >= m.maxSlash) {
				return false
			}
			slashes++
		}
	}
}

func (m *matcher) slashesFit(n int) bool {
	return n >= m.minSlash && (m.maxSlash < 0 || n <= m.maxSlash)
}

// compilePattern compiles one rclone pattern (without the "+ " or "- ")
// into a matcher of paths relative to the root, without a leading "/".
func compilePattern(pattern string) (*matcher, error) {
	anchored, body, trailingEscape, err := globToRegexp(pattern)
	if err != nil {
		return nil, badPattern(pattern, err)
	}
	prefix := "(^|/)"
	if anchored {
		prefix = "^"
	}
	full := prefix + body + "$"
	// The regular expression rclone would use; rclone refuses what this
	// refuses.
	if _, err := regexp.Compile(full); err != nil {
		return nil, badPattern(pattern, err)
	}
	if trailingEscape {
		return nil, unsupported(pattern, `a "\" at the end escapes nothing (rclone reads it as "\$", a literal "$" anywhere in the name)`)
	}
	if body != "" {
		// A {{ regexp }} can break out of its parentheses ("{{a)|(b}}")
		// and change the meaning of rclone's anchors; refuse that rather
		// than guess.
		fullRe, err1 := syntax.Parse(full, syntax.Perl)
		groupRe, err2 := syntax.Parse(prefix+"(?:"+body+")$", syntax.Perl)
		if err1 != nil || err2 != nil || !fullRe.Equal(groupRe) {
			return nil, unsupported(pattern, "the regular expression reaches outside its {{ }}")
		}
	}
	re, err := syntax.Parse(body, syntax.Perl)
	if err != nil {
		return nil, unsupported(pattern, err)
	}
	r := renderer{}
	r.node(re)
	if r.err != nil {
		return nil, unsupported(pattern, r.err)
	}
	text := r.b.String()
	g, err := glob.Compile(text, '/')
	if err != nil {
		// render should never write a pattern gobwas refuses.
		return nil, fmt.Errorf("filters: internal error: pattern %q gave glob %q: %w", pattern, text, err)
	}
	m := &matcher{g: g, anchored: anchored}
	m.minSlash, m.maxSlash = slashes(re)
	return m, nil
}

// slashes returns the fewest and the most "/" that a string re matches can
// hold; most is -1 for no limit.
func slashes(re *syntax.Regexp) (least, most int) {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, c := range re.Rune {
			if c == '/' {
				n++
			}
		}
		return n, n
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		c := classOf(re)
		switch {
		case slices.Equal(c, class{'/', '/'}):
			return 1, 1
		case c.has('/'):
			return 0, 1
		}
		return 0, 0
	case syntax.OpCapture:
		return slashes(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			l, m := slashes(sub)
			least += l
			most = addMost(most, m)
		}
		return least, most
	case syntax.OpAlternate:
		least, most = slashes(re.Sub[0])
		for _, sub := range re.Sub[1:] {
			l, m := slashes(sub)
			least = min(least, l)
			if most >= 0 && (m < 0 || m > most) {
				most = m
			}
		}
		return least, most
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		l, m := slashes(re.Sub[0])
		lo, hi := 0, 1 // OpQuest
		switch re.Op {
		case syntax.OpStar:
			hi = -1
		case syntax.OpPlus:
			lo, hi = 1, -1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
		}
		least = l * lo
		switch {
		case m == 0:
			most = 0
		case m < 0 || hi < 0:
			most = -1
		default:
			most = m * hi
		}
		return least, most
	}
	return 0, 0
}

// addMost adds two "most" counts, -1 being no limit.
func addMost(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}

// renderer writes a parsed regular expression as gobwas/glob text.
type renderer struct {
	b        strings.Builder
	err      error
	lastStar bool // the text ends with a lone "*"
}

var (
	errAnchor = errors.New(`anchors and word boundaries (^, $, \A, \z, \b, \B) are not supported`)
	errRepeat = errors.New("only a single character can be repeated (like [^/]* or .*), and only with * or +")
	errStar   = errors.New(`only [^/]* and .* can be repeated without a limit (a glob has no "any number of" other characters)`)
	errTooBig = errors.New("pattern too large")
)

func (r *renderer) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *renderer) write(s string) {
	if r.err != nil {
		return
	}
	if r.b.Len()+len(s) > maxGlobLen {
		r.fail(errTooBig)
		return
	}
	r.b.WriteString(s)
	r.lastStar = s == "*"
}

func (r *renderer) node(re *syntax.Regexp) {
	if r.err != nil {
		return
	}
	switch re.Op {
	case syntax.OpNoMatch:
		r.write(noMatch)
	case syntax.OpEmptyMatch:
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				r.class(foldClass(c))
			} else {
				r.literal(c)
			}
		}
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		r.class(classOf(re))
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		r.fail(errAnchor)
	case syntax.OpCapture:
		r.node(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			r.node(sub)
		}
	case syntax.OpAlternate:
		r.write("{")
		for i, sub := range re.Sub {
			if i > 0 {
				r.write(",")
			}
			r.node(sub)
		}
		r.write("}")
	case syntax.OpStar:
		r.star(re.Sub[0])
	case syntax.OpPlus:
		r.node(re.Sub[0])
		r.star(re.Sub[0])
	case syntax.OpQuest:
		r.write("{")
		r.node(re.Sub[0])
		r.write(",}")
	case syntax.OpRepeat:
		r.repeat(re)
	default:
		r.fail(fmt.Errorf("regular expression operator %v is not supported", re.Op))
	}
}

// repeat writes x{min,max} as min copies of x and then either x* or a
// group of the optional counts: x{1,3} is "x{,x,xx}".
func (r *renderer) repeat(re *syntax.Regexp) {
	sub := re.Sub[0]
	for range re.Min {
		r.node(sub)
	}
	switch {
	case re.Max < 0:
		r.star(sub)
	case re.Max > re.Min:
		r.write("{")
		for k := range re.Max - re.Min + 1 {
			if k > 0 {
				r.write(",")
			}
			for range k {
				r.node(sub)
			}
		}
		r.write("}")
	}
}

// star writes sub*, which a glob can say only for [^/]* ("*") and .* ("**").
func (r *renderer) star(sub *syntax.Regexp) {
	c, ok := singleClass(sub)
	switch {
	case !ok:
		r.fail(errRepeat)
	case slices.Equal(c, notSlash):
		if !r.lastStar {
			// "*" after "*" would read as "**"; [^/]*[^/]* is [^/]*.
			r.write("*")
		}
	case slices.Equal(c, anyRune), slices.Equal(c, notNewline):
		// .* does not match "\n" in rclone; "**" does.
		r.write("**")
	default:
		r.fail(errStar)
	}
}

// singleClass returns the characters re matches, if it matches exactly one
// character.
func singleClass(re *syntax.Regexp) (class, bool) {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	switch re.Op {
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return classOf(re), true
	case syntax.OpLiteral:
		if len(re.Rune) != 1 {
			return nil, false
		}
		if re.Flags&syntax.FoldCase != 0 {
			return foldClass(re.Rune[0]), true
		}
		return class{re.Rune[0], re.Rune[0]}, true
	}
	return nil, false
}

// literal writes one character that must match itself.
func (r *renderer) literal(c rune) {
	if c == utf8.RuneError {
		// Go's regexp (so rclone) reads an invalid byte of a path as
		// U+FFFD; so does a glob class, but not a glob literal.
		r.write(rangeText(c, c))
		return
	}
	r.write(escapeRune(c))
}

// class writes a glob that matches one character of c.
func (r *renderer) class(c class) {
	c = c.clean()
	switch {
	case len(c) == 0:
		r.write(noMatch)
		return
	case slices.Equal(c, notSlash):
		r.write("?")
		return
	case len(c) == 2 && c[0] == c[1]:
		r.literal(c[0])
		return
	}
	if n := c.negate(); len(n) > 0 && len(n) <= 2*16 && n.singletons() && len(n) < len(c) {
		// Few characters left out: "[!/a]".
		r.write("[!" + setText(n) + "]")
		return
	}
	// A group of ranges and one set of single characters:
	// "{[a-z],[A-Z],[_.]}".
	var parts []string
	var single class
	for i := 0; i < len(c); i += 2 {
		lo, hi := c[i], c[i+1]
		if lo == '!' {
			// "[!-x]" would read as a negation: take "!" out.
			single = append(single, '!', '!')
			lo++
		}
		switch {
		case lo > hi:
		case hi-lo <= 1:
			single = append(single, lo, lo)
			if hi != lo {
				single = append(single, hi, hi)
			}
		default:
			parts = append(parts, rangeText(lo, hi))
		}
	}
	switch len(single) {
	case 0:
	case 2:
		parts = append(parts, escapeRune(single[0]))
		if single[0] == utf8.RuneError {
			parts[len(parts)-1] = rangeText(single[0], single[0])
		}
	default:
		parts = append(parts, "["+setText(single)+"]")
	}
	if len(parts) == 1 {
		r.write(parts[0])
		return
	}
	r.write("{" + strings.Join(parts, ",") + "}")
}
