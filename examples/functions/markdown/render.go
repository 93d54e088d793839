package main

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDepth bounds nesting (quotes, lists, emphasis) so hostile input
// cannot recurse without end.
const maxDepth = 16

// Render turns Markdown into an HTML fragment.
func Render(src string) string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\x00", "\uFFFD")
	var b strings.Builder
	renderBlocks(&b, strings.Split(src, "\n"), 0, false)
	return b.String()
}

// renderBlocks writes the blocks of lines. tight drops the <p> around
// paragraphs (list items).
func renderBlocks(b *strings.Builder, lines []string, depth int, tight bool) {
	for i := 0; i < len(lines); {
		line := expandTabs(lines[i])
		trim := strings.TrimSpace(line)
		switch {
		case trim == "":
			i++
		case isFence(trim):
			i = fence(b, lines, i)
		case headingLevel(trim) > 0:
			lvl, text := heading(trim)
			tag := string(rune('0' + lvl))
			b.WriteString("<h" + tag + ">" + inline(text, depth) + "</h" + tag + ">\n")
			i++
		case isBreak(trim):
			b.WriteString("<hr>\n")
			i++
		case strings.HasPrefix(trim, ">"):
			var inner []string
			for i < len(lines) {
				t := strings.TrimSpace(lines[i])
				if !strings.HasPrefix(t, ">") {
					break
				}
				t = strings.TrimPrefix(t, ">")
				inner = append(inner, strings.TrimPrefix(t, " "))
				i++
			}
			b.WriteString("<blockquote>\n")
			if depth < maxDepth {
				renderBlocks(b, inner, depth+1, false)
			} else {
				b.WriteString("<p>" + escape(strings.Join(inner, "\n")) + "</p>\n")
			}
			b.WriteString("</blockquote>\n")
		case listMarker(line) > 0:
			i = list(b, lines, i, depth)
		default:
			var para []string
			for i < len(lines) {
				l := expandTabs(lines[i])
				t := strings.TrimSpace(l)
				if t == "" || isFence(t) || headingLevel(t) > 0 || isBreak(t) || strings.HasPrefix(t, ">") || (len(para) > 0 && listMarker(l) > 0) {
					break
				}
				para = append(para, l)
				i++
			}
			text := paragraph(para, depth)
			if tight {
				b.WriteString(text + "\n")
			} else {
				b.WriteString("<p>" + text + "</p>\n")
			}
		}
	}
}

// paragraph joins lines with hard breaks where a line ends in two spaces
// or a backslash.
func paragraph(lines []string, depth int) string {
	var b strings.Builder
	for k, l := range lines {
		l = strings.TrimLeft(l, " ")
		brk := false
		if k < len(lines)-1 {
			if strings.HasSuffix(l, "  ") {
				brk, l = true, strings.TrimRight(l, " ")
			} else if strings.HasSuffix(l, "\\") {
				brk, l = true, strings.TrimSuffix(l, "\\")
			}
		}
		b.WriteString(inline(strings.TrimRight(l, " "), depth))
		if k < len(lines)-1 {
			if brk {
				b.WriteString("<br>")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func expandTabs(s string) string { return strings.ReplaceAll(s, "\t", "    ") }

func isFence(t string) bool { return strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") }

// fence writes a fenced code block starting at lines[i]; it returns the
// index after the closing fence (or the end).
func fence(b *strings.Builder, lines []string, i int) int {
	open := strings.TrimSpace(lines[i])
	ch := open[0]
	n := len(open) - len(strings.TrimLeft(open, string(ch)))
	lang := strings.TrimSpace(open[n:])
	if f := strings.Fields(lang); len(f) > 0 {
		lang = f[0]
	}
	b.WriteString("<pre><code")
	if lang != "" {
		b.WriteString(` class="language-` + escape(lang) + `"`)
	}
	b.WriteString(">")
	i++
	for ; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if len(t) >= n && strings.Trim(t, string(ch)) == "" && t[0] == ch {
			i++
			break
		}
		b.WriteString(escape(lines[i]) + "\n")
	}
	b.WriteString("</code></pre>\n")
	return i
}

func headingLevel(t string) int {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(t) && t[n] != ' ') {
		return 0
	}
	return n
}

// heading returns the level and text of an ATX heading ("## Title ##").
func heading(line string) (int, string) {
	t := strings.TrimSpace(line)
	lvl := headingLevel(t)
	if lvl == 0 {
		return 0, ""
	}
	text := strings.TrimSpace(t[lvl:])
	if s := strings.TrimRight(text, "#"); s == "" || strings.HasSuffix(s, " ") {
		text = strings.TrimSpace(s)
	}
	return lvl, text
}

// isBreak: three or more of one of - * _ (spaces allowed), nothing else.
func isBreak(t string) bool {
	s := strings.ReplaceAll(t, " ", "")
	if len(s) < 3 {
		return false
	}
	c := s[0]
	return (c == '-' || c == '*' || c == '_') && strings.Trim(s, string(c)) == ""
}

// listMarker returns the width of a list item marker at the start of line
// (indent, marker and one space), or 0.
func listMarker(line string) int {
	ind := len(line) - len(strings.TrimLeft(line, " "))
	if ind > 3 {
		return 0
	}
	t := line[ind:]
	if len(t) >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ' {
		return ind + 2
	}
	d := 0
	for d < len(t) && d < 9 && t[d] >= '0' && t[d] <= '9' {
		d++
	}
	if d > 0 && d+1 < len(t) && (t[d] == '.' || t[d] == ')') && t[d+1] == ' ' {
		return ind + d + 2
	}
	return 0
}

func ordered(line string) bool {
	t := strings.TrimLeft(line, " ")
	return t != "" && t[0] >= '0' && t[0] <= '9'
}

// list writes a bullet or ordered list starting at lines[i]; items end at
// the next marker of the same kind, continuation lines are indented (or
// lazy paragraph text), and a blank line followed by a non-item ends it.
func list(b *strings.Builder, lines []string, i, depth int) int {
	ord := ordered(lines[i])
	tag := "ul"
	if ord {
		tag = "ol"
	}
	b.WriteString("<" + tag + ">\n")
	for i < len(lines) {
		line := expandTabs(lines[i])
		w := listMarker(line)
		if w == 0 || ordered(line) != ord {
			break
		}
		item := []string{line[w:]}
		i++
		for i < len(lines) {
			l := expandTabs(lines[i])
			t := strings.TrimSpace(l)
			ind := len(l) - len(strings.TrimLeft(l, " "))
			if t == "" {
				// A blank line continues the item only if indented text follows.
				if i+1 < len(lines) {
					next := expandTabs(lines[i+1])
					if nind := len(next) - len(strings.TrimLeft(next, " ")); strings.TrimSpace(next) != "" && nind >= w {
						item = append(item, "")
						i++
						continue
					}
				}
				break
			}
			if ind >= w {
				item = append(item, l[w:])
			} else if listMarker(l) > 0 || isFence(t) || headingLevel(t) > 0 || isBreak(t) || strings.HasPrefix(t, ">") {
				break
			} else {
				item = append(item, l) // lazy continuation
			}
			i++
		}
		b.WriteString("<li>")
		if depth < maxDepth {
			var ib strings.Builder
			renderBlocks(&ib, item, depth+1, true)
			b.WriteString(strings.TrimSuffix(ib.String(), "\n"))
		} else {
			b.WriteString(escape(strings.Join(item, "\n")))
		}
		b.WriteString("</li>\n")
		// Skip blank lines between items of the same list.
		j := i
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j > i && j < len(lines) && listMarker(expandTabs(lines[j])) > 0 && ordered(lines[j]) == ord {
			i = j
		}
	}
	b.WriteString("</" + tag + ">\n")
	return i
}

// inline renders emphasis, strong, code spans, links and escapes.
func inline(s string, depth int) string {
	var b strings.Builder
	noCloser := map[string]bool{} // delimiters with no closer left: never search again
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\\`*_{}[]()#+-.!<>\"'|~", s[i+1]) >= 0:
			b.WriteString(escape(s[i+1 : i+2]))
			i += 2
			continue
		case c == '`':
			n := run(s, i, '`')
			delim := s[i : i+n]
			if end := strings.Index(s[i+n:], delim); end >= 0 && !noCloser[delim] {
				code := s[i+n : i+n+end]
				if len(code) >= 2 && code[0] == ' ' && code[len(code)-1] == ' ' && strings.TrimSpace(code) != "" {
					code = code[1 : len(code)-1]
				}
				b.WriteString("<code>" + escape(code) + "</code>")
				i += n + end + n
				continue
			}
			noCloser[delim] = true
			b.WriteString(delim)
			i += n
			continue
		case c == '[' && depth < maxDepth:
			if text, href, n, ok := link(s[i:]); ok {
				if safeURL(href) {
					b.WriteString(`<a href="` + escape(href) + `">` + inline(text, depth+1) + "</a>")
				} else {
					b.WriteString(inline(text, depth+1))
				}
				i += n
				continue
			}
		case (c == '*' || c == '_') && depth < maxDepth:
			n := min(run(s, i, c), 2)
			delim := s[i : i+n]
			if i+n < len(s) && s[i+n] != ' ' && !(c == '_' && i > 0 && isWord(s[i-1])) && !noCloser[delim] {
				if end := closer(s, i+n, delim); end >= 0 {
					tag := "em"
					if n == 2 {
						tag = "strong"
					}
					b.WriteString("<" + tag + ">" + inline(s[i+n:end], depth+1) + "</" + tag + ">")
					i = end + n
					continue
				}
				noCloser[delim] = true
			}
			b.WriteString(delim)
			i += n
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(escape(s[i : i+size]))
		i += size
	}
	return b.String()
}

// closer finds the closing delimiter at or after from: not preceded by a
// space, and for '_' not followed by a word character.
func closer(s string, from int, delim string) int {
	for j := from; j < len(s); {
		k := strings.Index(s[j:], delim)
		if k < 0 {
			return -1
		}
		p := j + k
		ok := p > from && s[p-1] != ' '
		if delim[0] == '_' && p+len(delim) < len(s) && isWord(s[p+len(delim)]) {
			ok = false
		}
		if len(delim) == 1 && p+1 < len(s) && s[p+1] == delim[0] {
			// "**" inside "*...*": skip the pair.
			j = p + 2
			continue
		}
		if ok {
			return p
		}
		j = p + len(delim)
	}
	return -1
}

// link parses "[text](href)" or `[text](href "title")` at the start of s.
func link(s string) (text, href string, n int, ok bool) {
	depth := 0
	end := -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				end = i
			}
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 || end+1 >= len(s) || s[end+1] != '(' {
		return "", "", 0, false
	}
	// The target ends at the ')' that balances the '(' (URLs may hold
	// parentheses).
	close, pd := -1, 0
	for j := end + 2; j < len(s) && close < 0; j++ {
		switch s[j] {
		case '(':
			pd++
		case ')':
			if pd == 0 {
				close = j - (end + 2)
			}
			pd--
		}
	}
	if close < 0 {
		return "", "", 0, false
	}
	target := strings.TrimSpace(s[end+2 : end+2+close])
	if f := strings.Fields(target); len(f) > 0 {
		target = f[0]
	}
	return s[1:end], strings.Trim(target, "<>"), end + 2 + close + 1, true
}

// safeURL keeps http, https, mailto and relative links.
func safeURL(u string) bool {
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "mailto:") {
		return true
	}
	colon := strings.IndexByte(l, ':')
	return colon < 0 || strings.IndexAny(l[:colon], "/?#") >= 0
}

func run(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

func isWord(c byte) bool {
	return c < utf8.RuneSelf && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)))
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func escape(s string) string { return htmlEscaper.Replace(s) }
