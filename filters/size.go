package filters

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// parseSize reads a size the way rclone's fs.SizeSuffix.Set does (rclone
// v1.76, fs/sizesuffix.go), so that --min-size and --max-size take the
// same values: a number with an optional suffix in powers of 1024, "B"
// (bytes), "K"/"Ki"/"KiB", "M", "G", "T", "P", "E", in either case; a bare
// number is in KiB, as in rclone; "1.5M" is allowed; "off" is no limit
// (-1). The empty string is no limit too (ferry's default).
func parseSize(s string) (int64, error) {
	if s == "" || strings.ToLower(s) == "off" {
		return -1, nil
	}
	suffix := s[len(s)-1]
	suffixLen := 1
	var multiplier float64
	switch suffix {
	case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '.':
		suffixLen = 0
		multiplier = 1 << 10
	case 'b', 'B':
		if len(s) > 2 && s[len(s)-2] == 'i' {
			suffix = s[len(s)-3]
			suffixLen = 3
			var ok bool
			if multiplier, ok = sizeMultiplier(suffix); !ok {
				return 0, fmt.Errorf("bad suffix %q", suffix)
			}
		} else {
			multiplier = 1
		}
	case 'i', 'I':
		ok := false
		if len(s) > 1 {
			suffix = s[len(s)-2]
			suffixLen = 2
			multiplier, ok = sizeMultiplier(suffix)
		}
		if !ok {
			return 0, fmt.Errorf("bad suffix %q", suffix)
		}
	default:
		var ok bool
		if multiplier, ok = sizeMultiplier(suffix); !ok {
			return 0, fmt.Errorf("bad suffix %q", suffix)
		}
	}
	s = s[:len(s)-suffixLen]
	value, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var numErr *strconv.NumError
		if errors.As(err, &numErr) {
			err = numErr.Err
		}
		return 0, fmt.Errorf("%q is not a number: %w", s, err)
	}
	if math.IsNaN(value) {
		return 0, fmt.Errorf("size must be a number %q", s)
	}
	if value < 0 {
		return 0, fmt.Errorf("size can't be negative %q", s)
	}
	value *= multiplier
	if value >= math.MaxInt64 {
		return 0, fmt.Errorf("value can't be greater than %d", int64(math.MaxInt64))
	}
	return int64(value), nil
}

func sizeMultiplier(s byte) (float64, bool) {
	switch s {
	case 'k', 'K':
		return 1 << 10, true
	case 'm', 'M':
		return 1 << 20, true
	case 'g', 'G':
		return 1 << 30, true
	case 't', 'T':
		return 1 << 40, true
	case 'p', 'P':
		return 1 << 50, true
	case 'e', 'E':
		return 1 << 60, true
	}
	return 1, false
}
