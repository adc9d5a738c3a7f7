package filters

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
)

// A class is a set of characters as sorted, non-overlapping, inclusive
// ranges lo, hi, lo, hi, ... like regexp/syntax's Regexp.Rune.
type class []rune

var (
	anyRune    = class{0, unicode.MaxRune}
	notSlash   = class{0, '/' - 1, '/' + 1, unicode.MaxRune}
	notNewline = class{0, '\n' - 1, '\n' + 1, unicode.MaxRune}
)

// noMatch is a glob that matches nothing, not even an invalid byte (which
// reads as U+FFFD).
var noMatch = "[!" + string(rune(0)) + "-" + string(rune(unicode.MaxRune)) + "]"

func classOf(re *syntax.Regexp) class {
	switch re.Op {
	case syntax.OpAnyChar:
		return anyRune
	case syntax.OpAnyCharNotNL:
		return notNewline
	}
	return class(slices.Clone(re.Rune)).clean()
}

// foldClass is the class of the characters that equal c ignoring case.
func foldClass(c rune) class {
	var out class
	for f := unicode.SimpleFold(c); ; f = unicode.SimpleFold(f) {
		out = append(out, f, f)
		if f == c {
			break
		}
	}
	return out.clean()
}

// clean sorts and merges the ranges, and leaves out the surrogate halves,
// which no valid UTF-8 text contains and no glob can write.
func (c class) clean() class {
	type rng struct{ lo, hi rune }
	var rs []rng
	for i := 0; i+1 < len(c); i += 2 {
		lo, hi := c[i], c[i+1]
		if lo < 0xD800 && hi >= 0xD800 && hi <= 0xDFFF {
			hi = 0xD7FF
		}
		if lo >= 0xD800 && lo <= 0xDFFF {
			lo = 0xE000
		}
		if lo < 0xD800 && hi > 0xDFFF {
			rs = append(rs, rng{lo, 0xD7FF}, rng{0xE000, hi})
			continue
		}
		if lo <= hi {
			rs = append(rs, rng{lo, hi})
		}
	}
	slices.SortFunc(rs, func(a, b rng) int { return int(a.lo - b.lo) })
	out := class{}
	for _, x := range rs {
		if n := len(out); n > 0 && x.lo <= out[n-1]+1 {
			out[n-1] = max(out[n-1], x.hi)
			// Adjacent across the surrogates counts as adjacent.
			continue
		}
		if n := len(out); n > 0 && out[n-1] == 0xD7FF && x.lo == 0xE000 {
			out[n-1] = x.hi
			continue
		}
		out = append(out, x.lo, x.hi)
	}
	return out
}

// has reports whether c holds the character x.
func (c class) has(x rune) bool {
	for i := 0; i < len(c); i += 2 {
		if c[i] <= x && x <= c[i+1] {
			return true
		}
	}
	return false
}

// negate returns the characters (not surrogates) that c does not hold.
func (c class) negate() class {
	var out class
	next := rune(0)
	for i := 0; i < len(c); i += 2 {
		if c[i] > next {
			out = append(out, next, c[i]-1)
		}
		next = c[i+1] + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, next, unicode.MaxRune)
	}
	return out.clean()
}

// singletons reports whether every range of c is a single character.
func (c class) singletons() bool {
	for i := 0; i < len(c); i += 2 {
		if c[i] != c[i+1] {
			return false
		}
	}
	return true
}

// setText writes the single characters of c for the inside of a glob
// "[...]". A "-" goes first (after a character it would make a range),
// and "\", "]" and "!" are escaped.
func setText(c class) string {
	var b strings.Builder
	rs := make([]rune, 0, len(c)/2)
	for i := 0; i < len(c); i += 2 {
		rs = append(rs, c[i])
	}
	if i := slices.Index(rs, '-'); i > 0 {
		rs = append([]rune{'-'}, slices.Delete(rs, i, i+1)...)
	}
	for _, x := range rs {
		switch x {
		case '\\', ']', '!':
			b.WriteByte('\\')
		}
		b.WriteRune(x)
	}
	return b.String()
}

// rangeText writes a glob range "[lo-hi]". gobwas reads the two ends
// verbatim; lo must not be "!", which would negate.
func rangeText(lo, hi rune) string {
	return "[" + string(lo) + "-" + string(hi) + "]"
}

// escapeRune writes c as a glob literal.
func escapeRune(c rune) string {
	switch c {
	case '*', '?', '\\', '[', ']', '{', '}', ',':
		return `\` + string(c)
	}
	return string(c)
}
