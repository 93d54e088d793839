// sha256: the SHA-256 digest of stdin or of files, printed like sha256sum.
//
//   cloudless exec --stdin big.bin build/examples/sha256.wasm
//   3f0a...c1  -
//   cloudless exec --dir ./data:/data build/examples/sha256.wasm -- /data/a.txt
//   9b71...0e  /data/a.txt
//
// A guest has no SHA-NI instructions and wasi-libc has no crypto, so this is
// the plain FIPS 180-4 algorithm in portable C. The same source built natively
// is the baseline the sandbox's speed is compared with (docs/benchmarks.md).
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
	uint32_t h[8];
	uint64_t len; // bytes hashed so far
	uint8_t buf[64];
	size_t nbuf;
} sha256_ctx;

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(sha256_ctx *c, const uint8_t *p) {
	// Written out (the 64 rounds fully, the message schedule four and
	// eight steps per iteration), as most SHA-256 code is: the same
	// arithmetic as the textbook loops, without their loop tests and without
	// the eight moves per round that shifting a..h needs in a loop. A
	// register allocator that renames those moves away (gcc, natively) gains
	// ≈ 15%; wazero's compiler saves about half its time, and fewer loop
	// iterations also mean fewer of the sandbox's stop checks
	// (docs/benchmarks/executor.md, "SHA-256 of 64 MiB").
	uint32_t w[64];
#define LOAD(i) \
	w[i] = (uint32_t)p[4 * (i)] << 24 | (uint32_t)p[4 * (i) + 1] << 16 | \
	       (uint32_t)p[4 * (i) + 2] << 8 | (uint32_t)p[4 * (i) + 3]
#define EXPAND(i)                                                                          \
	w[i] = w[(i) - 16] + (ROR(w[(i) - 15], 7) ^ ROR(w[(i) - 15], 18) ^ (w[(i) - 15] >> 3)) + \
	       w[(i) - 7] + (ROR(w[(i) - 2], 17) ^ ROR(w[(i) - 2], 19) ^ (w[(i) - 2] >> 10))
	for (int i = 0; i < 16; i += 4) {
		LOAD(i);
		LOAD(i + 1);
		LOAD(i + 2);
		LOAD(i + 3);
	}
	for (int i = 16; i < 64; i += 8) {
		EXPAND(i);
		EXPAND(i + 1);
		EXPAND(i + 2);
		EXPAND(i + 3);
		EXPAND(i + 4);
		EXPAND(i + 5);
		EXPAND(i + 6);
		EXPAND(i + 7);
	}
#undef EXPAND
#undef LOAD
	uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
	uint32_t e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
	// Eight rounds per ROUND8, the working variables renamed instead of
	// shifted.
#define ROUND(a, b, c, d, e, f, g, h, i)                                                    \
	do {                                                                                \
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + \
		              K[i] + w[i];                                                      \
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c)); \
		d += t1;                                                                        \
		h = t1 + t2;                                                                    \
	} while (0)
#define ROUND8(i)                                  \
	do {                                       \
		ROUND(a, b, cc, d, e, f, g, h, i);     \
		ROUND(h, a, b, cc, d, e, f, g, i + 1); \
		ROUND(g, h, a, b, cc, d, e, f, i + 2); \
		ROUND(f, g, h, a, b, cc, d, e, i + 3); \
		ROUND(e, f, g, h, a, b, cc, d, i + 4); \
		ROUND(d, e, f, g, h, a, b, cc, i + 5); \
		ROUND(cc, d, e, f, g, h, a, b, i + 6); \
		ROUND(b, cc, d, e, f, g, h, a, i + 7); \
	} while (0)
	ROUND8(0);
	ROUND8(8);
	ROUND8(16);
	ROUND8(24);
	ROUND8(32);
	ROUND8(40);
	ROUND8(48);
	ROUND8(56);
#undef ROUND8
#undef ROUND
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
	c->h[5] += f;
	c->h[6] += g;
	c->h[7] += h;
}

static void sha256_init(sha256_ctx *c) {
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(c->h, iv, sizeof iv);
	c->len = 0;
	c->nbuf = 0;
}

static void sha256_update(sha256_ctx *c, const uint8_t *p, size_t n) {
	c->len += n;
	if (c->nbuf > 0) {
		size_t k = 64 - c->nbuf;
		if (k > n) {
			k = n;
		}
		memcpy(c->buf + c->nbuf, p, k);
		c->nbuf += k;
		p += k;
		n -= k;
		if (c->nbuf < 64) {
			return;
		}
		block(c, c->buf);
		c->nbuf = 0;
	}
	for (; n >= 64; p += 64, n -= 64) {
		block(c, p);
	}
	memcpy(c->buf, p, n);
	c->nbuf = n;
}

static void sha256_final(sha256_ctx *c, uint8_t out[32]) {
	uint64_t bits = c->len * 8;
	uint8_t pad[72] = {0x80};
	size_t padlen = (c->nbuf < 56 ? 56 : 120) - c->nbuf;
	for (int i = 0; i < 8; i++) {
		pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
	}
	sha256_update(c, pad, padlen + 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

static uint8_t chunk[1 << 16];

// sum hashes f and prints "<hex>  <name>". It returns 0, or 1 on a read error.
static int sum(FILE *f, const char *name) {
	sha256_ctx c;
	sha256_init(&c);
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		sha256_update(&c, chunk, n);
	}
	if (ferror(f)) {
		fprintf(stderr, "sha256: %s: read error: %s\n", name, strerror(errno));
		return 1;
	}
	uint8_t d[32];
	sha256_final(&c, d);
	char hex[65];
	for (int i = 0; i < 32; i++) {
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	}
	printf("%s  %s\n", hex, name);
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 2) {
		return sum(stdin, "-");
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			rc |= sum(stdin, "-");
			continue;
		}
		FILE *f = fopen(argv[i], "rb");
		if (f == NULL) {
			fprintf(stderr, "sha256: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
			continue;
		}
		rc |= sum(f, argv[i]);
		fclose(f);
	}
	return rc;
}
