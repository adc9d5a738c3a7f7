package filters

import (
	"errors"
	"fmt"
)

// Errors that Parse returns, wrapped in a *RuleError (or, for the sizes, in
// an error naming the flag); test for them with errors.Is.
var (
	// ErrBadPattern is a pattern that rclone would refuse too, such as "a[".
	ErrBadPattern = errors.New("filters: bad pattern")
	// ErrUnsupported is a pattern rclone accepts but ferry cannot match the
	// same way, such as a {{ regexp }} with a repetition that no glob can
	// express; see docs/filters.md.
	ErrUnsupported = errors.New("filters: unsupported pattern")
	// ErrMalformedRule is a filter rule that is not "+ pattern",
	// "- pattern" or "!".
	ErrMalformedRule = errors.New("filters: malformed rule")
	// ErrBadSize is a --min-size or --max-size value that is not a size.
	ErrBadSize = errors.New("filters: bad size")
)

// A RuleError says which rule Parse could not use and where it was written:
//
//	filters.txt:7: bad pattern "a[": mismatched '[' and ']'
//	--include: unsupported pattern "{{a+b}}": ...
type RuleError struct {
	Source string // the file as named in Options, or the flag ("--include")
	Line   int    // line number in Source, from 1; 0 for a flag
	Rule   string // the line or flag value as written
	Err    error  // wraps ErrBadPattern, ErrUnsupported or ErrMalformedRule
}

func (e *RuleError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Source, e.Err)
}

func (e *RuleError) Unwrap() error { return e.Err }

// kindError is an error message that wraps one of the sentinels without
// repeating its text.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func badPattern(pattern string, detail any) error {
	return &kindError{ErrBadPattern, fmt.Sprintf("bad pattern %q: %v", pattern, detail)}
}

func unsupported(pattern string, detail any) error {
	return &kindError{ErrUnsupported, fmt.Sprintf("unsupported pattern %q: %v", pattern, detail)}
}

func malformed(rule string) error {
	return &kindError{ErrMalformedRule, fmt.Sprintf(`malformed rule %q: want "+ pattern", "- pattern" or "!"`, rule)}
}
