package emag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// This file holds a small allocation-free walker over JSON that encoding/json
// has already validated (json.Valid). It lets the hot decoders visit an
// object's keys once, keep each value's exact bytes, and dispatch on the key
// without reflection. On invalid input it returns an error; it never panics
// and never reads out of bounds (FuzzDecodeEnvelope holds it to that).

var errSyntax = errors.New("malformed JSON")

// maxDepth bounds nesting so a hostile body cannot make the walker loop long.
const maxDepth = 10000

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// trim returns b without surrounding whitespace.
func trim(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// stringEnd returns the index just past the string starting at b[i] == '"'.
// It jumps from quote to quote with IndexByte (vectorised) and counts the
// backslashes before each to tell an escaped quote from the closing one.
func stringEnd(b []byte, i int) (int, error) {
	j := i + 1
	for j <= len(b) {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errSyntax
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
	return 0, errSyntax
}

// valueEnd returns the index just past the value starting at b[i].
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := stringEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
				if depth > maxDepth {
					return 0, errSyntax
				}
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	case ',', ':', '}', ']':
		return 0, errSyntax
	default:
		j := i
		for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ':' {
			j++
		}
		return j, nil
	}
}

// eachField calls fn for every key of the JSON object obj with the key's raw
// (unescaped when needed) bytes and the value's exact bytes.
func eachField(obj []byte, fn func(key, val []byte) error) error {
	obj = trim(obj)
	if len(obj) < 2 || obj[0] != '{' {
		return errSyntax
	}
	i := skipWS(obj, 1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return errSyntax
		}
		kend, err := stringEnd(obj, i)
		if err != nil {
			return err
		}
		key := obj[i+1 : kend-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(obj[i:kend], &s); err != nil {
				return errSyntax
			}
			key = []byte(s)
		}
		i = skipWS(obj, kend)
		if i >= len(obj) || obj[i] != ':' {
			return errSyntax
		}
		i = skipWS(obj, i+1)
		vend, err := valueEnd(obj, i)
		if err != nil {
			return err
		}
		if err := fn(key, obj[i:vend]); err != nil {
			return err
		}
		i = skipWS(obj, vend)
		if i >= len(obj) {
			return errSyntax
		}
		switch obj[i] {
		case ',':
			i = skipWS(obj, i+1)
		case '}':
			return nil
		default:
			return errSyntax
		}
	}
	return errSyntax
}

// eachElem calls fn for every element of the JSON array arr.
func eachElem(arr []byte, fn func(val []byte) error) error {
	arr = trim(arr)
	if len(arr) < 2 || arr[0] != '[' {
		return errSyntax
	}
	i := skipWS(arr, 1)
	if i < len(arr) && arr[i] == ']' {
		return nil
	}
	for i < len(arr) {
		vend, err := valueEnd(arr, i)
		if err != nil {
			return err
		}
		if err := fn(arr[i:vend]); err != nil {
			return err
		}
		i = skipWS(arr, vend)
		if i >= len(arr) {
			return errSyntax
		}
		switch arr[i] {
		case ',':
			i = skipWS(arr, i+1)
		case ']':
			return nil
		default:
			return errSyntax
		}
	}
	return errSyntax
}

// kind classifies a trimmed value by its first byte.
func kind(v []byte) byte {
	v = trim(v)
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; c {
	case '{', '[', '"', 't', 'f', 'n':
		return c
	}
	return '0'
}

func isNull(v []byte) bool { return bytes.Equal(trim(v), []byte("null")) }

// fieldError names the JSON key whose value could not be decoded.
type fieldError struct {
	key string
	err error
}

func (e *fieldError) Error() string { return fmt.Sprintf("field %q: %v", e.key, e.err) }
func (e *fieldError) Unwrap() error { return e.err }

func wrapField(key []byte, err error) error {
	if err == nil {
		return nil
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		return &fieldError{key: string(key) + "." + fe.key, err: fe.err}
	}
	return &fieldError{key: string(key), err: err}
}

// cloneRaw copies v so the result does not pin the whole response body.
func cloneRaw(v []byte) json.RawMessage {
	v = trim(v)
	out := make([]byte, len(v))
	copy(out, v)
	return out
}

// putExtra keeps an unknown field.
func putExtra(m *map[string]json.RawMessage, key, val []byte) {
	if *m == nil {
		*m = make(map[string]json.RawMessage, 2)
	}
	(*m)[string(key)] = cloneRaw(val)
}
