/*
 * png-deflate-options: the row-filter × zlib-setting survey behind ImageCodecs' PNG encoder (BENCHMARKS.md,
 * "Image codecs"). Decodes a JPEG field with libjpeg-turbo, filters every row the same way (None, Sub, Up,
 * Average, Paeth, or adaptive per row by minimum sum of absolute residuals, as libpng does) and deflates the
 * filtered rows in one call, printing the median thread-CPU time of filter and deflate over the runs and the
 * deflated size.
 *
 *     gcc -O2 benchmarks/png-deflate-options.c -lz -lturbojpeg -o /tmp/png-deflate-options
 *     /tmp/png-deflate-options /work/shared/data/smears/iml-malaria/images/PA171690.JPG [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>
#include <zlib.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, compare);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int paeth(int a, int b, int c) {
    int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
    return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
}

/* Row `row` under filter `type` (0–4) into out[0..n]; returns the sum of |residual| as signed bytes. */
static long filter_row(int type, const unsigned char *row, const unsigned char *above, unsigned char *out, int n) {
    long cost = 0;
    out[0] = (unsigned char)type;
    for (int i = 0; i < n; i++) {
        int a = i >= 3 ? row[i - 3] : 0, b = above[i], c = i >= 3 ? above[i - 3] : 0, p;
        switch (type) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = b; break;
        case 3: p = (a + b) >> 1; break;
        default: p = paeth(a, b, c);
        }
        unsigned char r = (unsigned char)(row[i] - p);
        out[1 + i] = r;
        cost += r < 128 ? r : 256 - r;
    }
    return cost;
}

/* The whole image filtered with `type` (0–4) or adaptively (5). */
static void filter_image(int type, const unsigned char *pixels, int width, int height, unsigned char *out) {
    int n = 3 * width;
    unsigned char *zeros = calloc(n, 1), *trial = malloc(n + 1);
    for (int y = 0; y < height; y++) {
        const unsigned char *row = pixels + (size_t)y * n, *above = y ? row - n : zeros;
        unsigned char *dst = out + (size_t)y * (n + 1);
        if (type < 5) { filter_row(type, row, above, dst, n); continue; }
        long best = -1;
        for (int t = 0; t < 5; t++) {
            long cost = filter_row(t, row, above, trial, n);
            if (best < 0 || cost < best) { best = cost; memcpy(dst, trial, n + 1); }
        }
    }
    free(zeros);
    free(trial);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s FIELD.JPG [runs]\n", argv[0]); return 2; }
    int runs = argc > 2 ? atoi(argv[2]) : 11;
    FILE *file = fopen(argv[1], "rb");
    if (!file) { perror(argv[1]); return 1; }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *jpeg = malloc(size);
    if (fread(jpeg, 1, size, file) != (size_t)size) { perror(argv[1]); return 1; }
    fclose(file);
    tjhandle tj = tjInitDecompress();
    int width, height, subsampling, colorspace;
    if (tjDecompressHeader3(tj, jpeg, size, &width, &height, &subsampling, &colorspace) != 0) { puts(tjGetErrorStr()); return 1; }
    unsigned char *pixels = malloc((size_t)width * height * 3);
    if (tjDecompress2(tj, jpeg, size, pixels, width, 0, height, TJPF_RGB, 0) != 0) { puts(tjGetErrorStr()); return 1; }

    size_t raw = (size_t)height * (1 + 3 * width);
    unsigned char *filtered = malloc(raw);
    uLong bound = compressBound(raw) + 1024;
    unsigned char *out = malloc(bound);
    double *times = malloc(runs * sizeof *times);
    const char *filters[] = {"None", "Sub", "Up", "Average", "Paeth", "adaptive"};
    struct { const char *name; int level, strategy; } settings[] = {
        {"level 1", 1, Z_DEFAULT_STRATEGY}, {"level 1 Z_RLE", 1, Z_RLE}, {"Huffman only", 1, Z_HUFFMAN_ONLY},
        {"level 6 Z_FILTERED", 6, Z_FILTERED},
    };
    printf("%dx%d, %zu filtered bytes, median of %d runs (thread CPU time)\n\n", width, height, raw, runs);
    printf("| filter | deflate | filter ms | deflate ms | bytes |\n|---|---|---:|---:|---:|\n");
    for (int f = 0; f < 6; f++) {
        for (int r = 0; r < runs; r++) {
            double t = cpu_seconds();
            filter_image(f, pixels, width, height, filtered);
            times[r] = cpu_seconds() - t;
        }
        double filter_ms = 1000 * median(times, runs);
        for (int s = 0; s < 4; s++) {
            if (settings[s].level == 6 && f != 2 && f != 5) continue;  /* level 6 only for Up and adaptive */
            uLong produced = 0;
            for (int r = 0; r < runs; r++) {
                z_stream z;
                memset(&z, 0, sizeof z);
                deflateInit2(&z, settings[s].level, Z_DEFLATED, 15, 8, settings[s].strategy);
                z.next_in = filtered; z.avail_in = (uInt)raw; z.next_out = out; z.avail_out = (uInt)bound;
                double t = cpu_seconds();
                deflate(&z, Z_FINISH);
                times[r] = cpu_seconds() - t;
                produced = z.total_out;
                deflateEnd(&z);
            }
            printf("| %s | %s | %.1f | %.1f | %lu |\n", filters[f], settings[s].name, filter_ms,
                   1000 * median(times, runs), produced);
        }
    }
    return 0;
}
