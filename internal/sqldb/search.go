package sqldb

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Product search, the same on both engines. A product matches a search when
//
//   - every word of the search is a word of its name, its brand or one of
//     its EANs, the last word only its beginning (as typed: words are runs of
//     letters, digits and '%', compared in lower case without diacritics, so
//     "lampa le" finds "Lampă LED 10W"); or
//   - the whole search, lower-cased, begins its part number or its part
//     number key ("pn-12" finds PN-12 and PN-120).
//
// The words live in emag_products.search_terms, written by the store, and
// are indexed by an FTS5 table (SQLite) or a GIN tsvector index over them
// taken verbatim (PostgreSQL); part numbers by expression B-tree indexes.

// maxSearchWords bounds the words of one search, and so its cost.
const maxSearchWords = 8

// foldRune maps a lower-case letter with a diacritic to its base letter;
// other runes are returned unchanged.
func foldRune(r rune) rune {
	if r < 0xC0 {
		return r
	}
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å', 'ā', 'ă', 'ą':
		return 'a'
	case 'ç', 'ć', 'ĉ', 'ċ', 'č':
		return 'c'
	case 'ď', 'đ':
		return 'd'
	case 'è', 'é', 'ê', 'ë', 'ē', 'ĕ', 'ė', 'ę', 'ě':
		return 'e'
	case 'ĝ', 'ğ', 'ġ', 'ģ':
		return 'g'
	case 'ì', 'í', 'î', 'ï', 'ĩ', 'ī', 'ĭ', 'į', 'ı':
		return 'i'
	case 'ķ':
		return 'k'
	case 'ĺ', 'ļ', 'ľ', 'ŀ', 'ł':
		return 'l'
	case 'ñ', 'ń', 'ņ', 'ň':
		return 'n'
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø', 'ō', 'ŏ', 'ő':
		return 'o'
	case 'ŕ', 'ŗ', 'ř':
		return 'r'
	case 'ś', 'ŝ', 'ş', 'š', 'ș':
		return 's'
	case 'ţ', 'ť', 'ŧ', 'ț':
		return 't'
	case 'ù', 'ú', 'û', 'ü', 'ũ', 'ū', 'ŭ', 'ů', 'ű', 'ų':
		return 'u'
	case 'ý', 'ÿ':
		return 'y'
	case 'ź', 'ż', 'ž':
		return 'z'
	}
	return r
}

// appendWords appends the search words of s to dst.
func appendWords(dst []string, s string) []string {
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			dst = append(dst, b.String())
			b.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			switch {
			case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '%':
				b.WriteRune(r)
			case 'A' <= r && r <= 'Z':
				b.WriteRune(r + ('a' - 'A'))
			default:
				flush()
			}
		case unicode.Is(unicode.Mn, r):
			// A combining mark (a decomposed diacritic): dropped.
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(foldRune(unicode.ToLower(r)))
		default:
			flush()
		}
	}
	flush()
	return dst
}

// searchTerms returns the stored search words of a product: its name, brand
// and EANs, each word once, space-separated.
func searchTerms(name, brand string, eans []string) string {
	words := appendWords(nil, name)
	words = appendWords(words, brand)
	for _, e := range eans {
		words = appendWords(words, e)
	}
	out := words[:0]
	for i, w := range words {
		dup := false
		for _, o := range words[:i] {
			if o == w {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// searchWords returns the words of a search (at most maxSearchWords).
func searchWords(q string) []string {
	w := appendWords(nil, q)
	if len(w) > maxSearchWords {
		w = w[:maxSearchWords]
	}
	return w
}

// ftsQuery is the FTS5 MATCH expression for words: all required, the last
// a prefix. Words hold only letters, digits and '%', so quoting is safe.
//
// Only the last word is a prefix because a prefix of a frequent word costs
// a merge of its whole doclist (every product named "Lampa ..."), while a
// whole word is read by seeking to the few rows the rarer words allow.
func ftsQuery(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = `"` + w + `"`
		if i == len(words)-1 {
			parts[i] += "*"
		}
	}
	return strings.Join(parts, " AND ")
}

// ftsQueryWhole is ftsQuery with the last word whole too: a subset of its
// matches, read without merging every word that begins like the last.
func ftsQueryWhole(words []string) string {
	return strings.TrimSuffix(ftsQuery(words), "*")
}

// tsQueryWhole is tsQuery with the last word whole too (see
// ftsQueryWhole).
func tsQueryWhole(words []string) string {
	return strings.TrimSuffix(tsQuery(words), ":*")
}

// tsQuery is the PostgreSQL tsquery text for words: quoted lexemes (taken
// verbatim by the ::tsquery cast), all required, the last a prefix (see
// ftsQuery).
func tsQuery(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = "'" + w + "'"
		if i == len(words)-1 {
			parts[i] += ":*"
		}
	}
	return strings.Join(parts, " & ")
}

// asciiLower lower-cases ASCII letters only, as SQLite's lower() does.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// rawExtras are the top-level fields of a product's raw payload that the
// API shows beside the typed columns; they are read from raw rather than
// stored twice.
type rawExtras struct {
	Manufacturer, EURepresentative, Images, Characteristics json.RawMessage
}

// extractRaw finds the rawExtras of a raw product_offer/read object with a
// single pass over its bytes (no decoding). Missing or null fields, and
// everything after a malformed byte, are left nil.
func extractRaw(raw []byte) rawExtras {
	var ex rawExtras
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ex
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] != '"' {
			return ex
		}
		kend := skipString(raw, i)
		if kend < 0 {
			return ex
		}
		key := raw[i+1 : kend-1]
		i = skipSpace(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return ex
		}
		i = skipSpace(raw, i+1)
		vend := skipValue(raw, i)
		if vend < 0 {
			return ex
		}
		val := raw[i:vend]
		if string(val) != "null" {
			switch string(key) {
			case "manufacturer":
				ex.Manufacturer = json.RawMessage(val)
			case "eu_representative":
				ex.EURepresentative = json.RawMessage(val)
			case "images":
				ex.Images = json.RawMessage(val)
			case "characteristics":
				ex.Characteristics = json.RawMessage(val)
			}
		}
		i = skipSpace(raw, vend)
		if i >= len(raw) || raw[i] != ',' {
			return ex
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"',
// or -1.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j)
				if j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// SearchWords returns the words of a product search as the store matches
// them (at most eight; see the rules at the top of this file).
func SearchWords(q string) []string { return searchWords(q) }

// SearchKey returns the lower-cased search the store compares with the
// beginning of part numbers and part number keys: ASCII letters only on
// SQLite (as its lower() does), every letter on PostgreSQL.
func (db *DB) SearchKey(q string) string {
	if db.dialect == SQLite {
		return asciiLower(q)
	}
	return strings.ToLower(q)
}
