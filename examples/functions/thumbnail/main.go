// Command thumbnail makes a small PNG of an image: it scales the picture down
// to fit a box (keeping its aspect ratio) by averaging the source pixels each
// thumbnail pixel covers, and optionally converts it to grayscale. It reads
// PNG, JPEG, GIF and PPM (netpbm P3/P6) and is built for the sandbox with
// GOOS=wasip1 GOARCH=wasm:
//
//	cloudless exec --memory 256MiB --dir ./photos:/in --out ./thumbs \
//	    build/examples/thumbnail.wasm -- -width 160 -gray /in/cat.png
//
// The input is the file named as the argument, else stdin. The PNG goes to
// -out FILE, by default /out/thumb.png when the job has an /out directory,
// else stdout ("-out -" forces stdout). A line describing what was done
// goes to stderr, so stdout can carry the image.
//
// Scaling is a box filter (area average) in premultiplied RGBA, the right
// filter for shrinking; an image smaller than the box is kept at its size,
// never enlarged. Grayscale uses the ITU-R BT.601 luma weights of Go's
// color.GrayModel; transparent areas become black.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	"image/png"
	"io"
	"os"
)

func main() {
	width := flag.Int("width", 128, "maximum width of the thumbnail in pixels")
	height := flag.Int("height", 0, "maximum height in pixels (0: same as -width)")
	gray := flag.Bool("gray", false, "convert to grayscale")
	out := flag.String("out", "", `output PNG (default /out/thumb.png if /out exists, else stdout; "-" for stdout)`)
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: thumbnail [-width N] [-height N] [-gray] [-out FILE] [IMAGE]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *height == 0 {
		*height = *width
	}
	if *width < 1 || *height < 1 || flag.NArg() > 1 {
		flag.Usage()
		os.Exit(2)
	}
	if *out == "" {
		*out = "-"
		if st, err := os.Stat("/out"); err == nil && st.IsDir() {
			*out = "/out/thumb.png"
		}
	}
	name := "stdin"
	if flag.NArg() == 1 {
		name = flag.Arg(0)
	}
	if err := run(name, *out, *width, *height, *gray); err != nil {
		fmt.Fprintln(os.Stderr, "thumbnail:", err)
		os.Exit(1)
	}
}

func run(name, out string, maxW, maxH int, gray bool) error {
	var r io.Reader = os.Stdin
	if name != "stdin" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	src, format, err := decode(bufio.NewReader(r))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	sb := src.Bounds()
	w, h := fit(sb.Dx(), sb.Dy(), maxW, maxH)
	var thumb image.Image = shrink(src, w, h)
	if gray {
		g := image.NewGray(thumb.Bounds())
		draw.Draw(g, g.Bounds(), thumb, image.Point{}, draw.Src)
		thumb = g
	}

	var dst io.Writer = os.Stdout
	var f *os.File
	if out != "-" {
		if f, err = os.Create(out); err != nil {
			return err
		}
		dst = f
	}
	cw := &countWriter{w: dst}
	if err := png.Encode(cw, thumb); err != nil {
		if f != nil {
			f.Close()
		}
		return fmt.Errorf("encode: %w", err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
	}
	mode := "color"
	if gray {
		mode = "gray"
	}
	fmt.Fprintf(os.Stderr, "%s: %s %dx%d -> %dx%d %s, wrote %s (%d bytes)\n",
		name, format, sb.Dx(), sb.Dy(), w, h, mode, out, cw.n)
	return nil
}

// fit returns the largest size with the aspect ratio of w×h that fits in
// maxW×maxH, never larger than w×h and at least 1×1.
func fit(w, h, maxW, maxH int) (int, int) {
	if w <= maxW && h <= maxH {
		return w, h
	}
	// Scale by the tighter of the two ratios, in integers: w/h kept.
	if w*maxH > h*maxW { // width is the constraint
		return maxW, max(1, (h*maxW+w/2)/w)
	}
	return max(1, (w*maxH+h/2)/h), maxH
}

// shrink scales src to w×h by averaging, for each output pixel, the source
// pixels whose centers fall in its box.
func shrink(src image.Image, w, h int) *image.RGBA {
	sb := src.Bounds()
	rgba, ok := src.(*image.RGBA)
	if !ok || rgba.Rect.Min != (image.Point{}) {
		rgba = image.NewRGBA(image.Rect(0, 0, sb.Dx(), sb.Dy()))
		draw.Draw(rgba, rgba.Rect, src, sb.Min, draw.Src)
	}
	sw, sh := sb.Dx(), sb.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if sw == w && sh == h {
		copy(dst.Pix, rgba.Pix)
		return dst
	}
	for y := 0; y < h; y++ {
		y0, y1 := y*sh/h, max((y+1)*sh/h, y*sh/h+1)
		for x := 0; x < w; x++ {
			x0, x1 := x*sw/w, max((x+1)*sw/w, x*sw/w+1)
			var r, g, b, a, n uint64
			for sy := y0; sy < y1; sy++ {
				row := rgba.Pix[sy*rgba.Stride:]
				for sx := x0; sx < x1; sx++ {
					p := row[4*sx : 4*sx+4]
					r += uint64(p[0])
					g += uint64(p[1])
					b += uint64(p[2])
					a += uint64(p[3])
					n++
				}
			}
			dst.SetRGBA(x, y, color.RGBA{
				R: uint8((r + n/2) / n), G: uint8((g + n/2) / n),
				B: uint8((b + n/2) / n), A: uint8((a + n/2) / n),
			})
		}
	}
	return dst
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// decode reads PPM itself (netpbm P3 ASCII and P6 binary, which the standard
// library lacks) and every other format with image.Decode.
func decode(br *bufio.Reader) (image.Image, string, error) {
	if magic, err := br.Peek(2); err == nil && (string(magic) == "P6" || string(magic) == "P3") {
		img, err := decodePPM(br)
		return img, "ppm", err
	}
	return image.Decode(br)
}

var errPPM = errors.New("ppm: malformed header")

// maxPixels bounds a PPM's declared size so a lying header cannot make the
// decoder allocate without bound (the sandbox's memory limit is the real cap).
const maxPixels = 1 << 26

type ppmHeader struct {
	binary              bool
	width, height, maxv int
}

func readPPMHeader(br *bufio.Reader) (ppmHeader, error) {
	var h ppmHeader
	magic := make([]byte, 2)
	if _, err := io.ReadFull(br, magic); err != nil {
		return h, err
	}
	switch string(magic) {
	case "P6":
		h.binary = true
	case "P3":
	default:
		return h, errPPM
	}
	vals := [3]*int{&h.width, &h.height, &h.maxv}
	for _, v := range vals {
		n, err := ppmInt(br)
		if err != nil {
			return h, err
		}
		*v = n
	}
	if h.width < 1 || h.height < 1 || h.maxv < 1 || h.maxv > 65535 || h.width*h.height > maxPixels {
		return h, fmt.Errorf("ppm: unsupported size %dx%d maxval %d", h.width, h.height, h.maxv)
	}
	// Exactly one whitespace byte separates the header from binary data.
	if _, err := br.ReadByte(); err != nil {
		return h, err
	}
	return h, nil
}

// ppmInt reads a decimal number, skipping whitespace and # comments.
func ppmInt(br *bufio.Reader) (int, error) {
	n, digits := 0, 0
	for {
		c, err := br.ReadByte()
		if err != nil {
			if digits > 0 && err == io.EOF {
				return n, nil
			}
			return 0, err
		}
		switch {
		case c >= '0' && c <= '9':
			if n > 1<<24 {
				return 0, errPPM
			}
			n = n*10 + int(c-'0')
			digits++
		case c == '#' && digits == 0:
			if _, err := br.ReadString('\n'); err != nil {
				return 0, err
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if digits > 0 {
				return n, br.UnreadByte()
			}
		default:
			return 0, errPPM
		}
	}
}

func decodePPM(br *bufio.Reader) (image.Image, error) {
	h, err := readPPMHeader(br)
	if err != nil {
		return nil, err
	}
	// Grow the pixels as samples arrive instead of trusting the header's
	// size up front: a short file with a huge header costs what it holds.
	n := 4 * h.width * h.height
	pix := make([]byte, 0, min(n, 1<<20))
	sample := func() (int, error) {
		if !h.binary {
			return ppmInt(br)
		}
		hi, err := br.ReadByte()
		if err != nil || h.maxv < 256 {
			return int(hi), err
		}
		lo, err := br.ReadByte()
		return int(hi)<<8 | int(lo), err
	}
	for len(pix) < n {
		for range 3 {
			v, err := sample()
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, fmt.Errorf("ppm: %w", err)
			}
			if v > h.maxv {
				return nil, fmt.Errorf("ppm: sample %d > maxval %d", v, h.maxv)
			}
			pix = append(pix, uint8((v*255+h.maxv/2)/h.maxv))
		}
		pix = append(pix, 0xff)
	}
	return &image.RGBA{Pix: pix, Stride: 4 * h.width, Rect: image.Rect(0, 0, h.width, h.height)}, nil
}
