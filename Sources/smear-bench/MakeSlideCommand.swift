import ArgumentParser
import Foundation
import ImageCodecs
import Pipeline
import Slides

/// Builds a test slide from annotated fields (issue 10, step 6): a mosaic written as a pyramidal tiled
/// BigTIFF with JPEG tiles, and the fields' annotations moved into slide coordinates as `cells.csv`
/// beside it. Memory stays at one band of tile rows whatever the slide's size.
struct MakeSlideCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-slide",
        abstract: "Build a pyramidal tiled BigTIFF test slide from annotated fields.",
        discussion: """
            The fields (all of one size) are laid edge to edge row by row in name order, and reused in \
            that order as often as the size asks. Annotations (--truth, a cells.csv with the header \
            image,x,y,width,height,class,source_label) are written, moved by each copy's offset, to \
            cells.csv in the slide's folder, with the slide's file name as image; boxes and points cut \
            by the slide's edge are left out. With --truth, fields.csv beside it gives where each field \
            lies (image,field,x,y,width,height: the slide's file name, the field's, and its rectangle \
            in the slide, cut to it), for `smear validate SLIDE --truth cells.csv --truth fields.csv`, \
            which then judges each annotation against the edges of its own field. Prints the slide's \
            size, levels, time and peak memory.

            Example (2 gigapixels of IML-Malaria fields):
              smear-bench make-slide ../shared/data/smears/iml-malaria/images \\
                --truth ../shared/data/smears/iml-malaria/cells.csv --gigapixels 2 --out /tmp/slide2/slide.tiff
            """)

    @Argument(help: "Field images, or folders of them (taken in name order).")
    var images: [String]

    @Option(name: .shortAndLong, help: "The slide to write (a BigTIFF); cells.csv goes beside it.")
    var out: String

    @Option(help: "The fields' annotations (cells.csv).")
    var truth: String?

    @Option(help: "Slide width in pixels (with --height); the last column of fields may be cut.")
    var width: Int?

    @Option(help: "Slide height in pixels (with --width).")
    var height: Int?

    @Option(help: "Instead of --width/--height: the smallest grid of whole fields about twice as wide as high with this many gigapixels.")
    var gigapixels: Double?

    @Flag(help: "Flip fields in odd columns left to right and in odd rows top to bottom: a slide of one field is then seamless.")
    var mirror = false

    @Option(help: "Tile side in pixels (a multiple of 16).")
    var tileSize = 512

    @Option(help: "JPEG quality of the tiles (1-100).")
    var quality = 90

    @Option(help: """
        Pixel size written into the resolution tags. The default is for IML-Malaria: a red cell is \
        about 7.5 µm across and the median box of its 30,732 uninfected cells is 82 px (7.5 / 82).
        """)
    var micronsPerPixel = 0.0915

    @Option(help: "Afterwards, time reading level 0 back through Slide in square regions of this side (a multiple of --tile-size decodes each tile once), on --threads threads.")
    var readBack: Int?

    @Option(help: "Threads for --read-back.")
    var threads = 2

    func validate() throws {
        switch (width, height, gigapixels) {
        case (let w?, let h?, nil):
            guard w > 0, h > 0 else { throw ValidationError("--width and --height must be positive") }
        case (nil, nil, let g?):
            guard g > 0, g.isFinite else { throw ValidationError("--gigapixels must be positive") }
        default:
            throw ValidationError("give either --width and --height, or --gigapixels")
        }
        guard tileSize > 0, tileSize % 16 == 0 else { throw ValidationError("--tile-size must be a positive multiple of 16") }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1-100") }
        guard micronsPerPixel > 0, micronsPerPixel.isFinite else { throw ValidationError("--microns-per-pixel must be positive") }
        guard (readBack ?? 1) > 0, threads > 0 else { throw ValidationError("--read-back and --threads must be positive") }
    }

    func run() throws {
        let start = wallSeconds()
        let paths = try expandImagePaths(images)
        guard let first = paths.first else { throw ValidationError("no field images given") }
        let sample = try ImageCodecs.read(path: first)
        var mosaic = gigapixels.map {
            FieldMosaic(fieldWidth: sample.width, fieldHeight: sample.height, fieldCount: paths.count, gigapixels: $0)
        } ?? FieldMosaic(fieldWidth: sample.width, fieldHeight: sample.height, fieldCount: paths.count,
                         width: width!, height: height!)
        mosaic.mirrored = mirror
        let cellsPath = (parentPath(out) as NSString).appendingPathComponent("cells.csv")
        let fieldsPath = (parentPath(out) as NSString).appendingPathComponent("fields.csv")
        if let truth, [cellsPath, fieldsPath].contains(where: {
            ($0 as NSString).resolvingSymlinksInPath == (truth as NSString).resolvingSymlinksInPath
        }) {
            throw ValidationError("--out would overwrite the --truth file \(truth): write the slide into another folder")
        }
        let annotations = try truth.map { try Annotation.load(csv: $0) }
        try FileManager.default.createDirectory(atPath: parentPath(out).isEmpty ? "." : parentPath(out),
                                                withIntermediateDirectories: true)

        FileHandle.standardError.write(Data(String(
            format: "%d×%d px (%.2f gigapixels): %d×%d fields of %d×%d from %d files\n", mosaic.width, mosaic.height,
            Double(mosaic.width * mosaic.height) / 1e9, mosaic.columns, mosaic.rows, mosaic.fieldWidth,
            mosaic.fieldHeight, paths.count).utf8))
        var reported = 0
        let levels = try PyramidTIFFWriter.write(
            to: out, width: mosaic.width, height: mosaic.height, tileSize: tileSize,
            compression: .jpeg(quality: quality), micronsPerPixel: micronsPerPixel,
            progress: { fraction in
                let percent = Int(fraction * 100)
                if percent >= reported + 10 {
                    reported = percent / 10 * 10
                    FileHandle.standardError.write(Data("\(reported)% after \(Int(wallSeconds() - start)) s\n".utf8))
                }
            },
            rows: { y, count throws(ImageError) in
                try mosaic.rows(from: y, count: count) { index throws(ImageError) in
                    let field = try ImageCodecs.read(path: paths[index])
                    guard field.width == mosaic.fieldWidth, field.height == mosaic.fieldHeight else {
                        throw ImageError(.unsupported, file: (paths[index] as NSString).lastPathComponent,
                                         "field is \(field.width)×\(field.height), the others \(mosaic.fieldWidth)×\(mosaic.fieldHeight)")
                    }
                    return field
                }
            })
        var written = 0
        if let annotations {
            written = try writeAnnotations(annotations, mosaic: mosaic, paths: paths, to: cellsPath)
            try writePlacement(mosaic: mosaic, paths: paths, to: fieldsPath)
        }
        let seconds = wallSeconds() - start
        let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        print(String(format: "%@: %d×%d px (%.2f gigapixels), %d levels down to %d×%d, JPEG q%d in %d px tiles, %.4f µm/px, %.0f MB",
                     out, mosaic.width, mosaic.height, Double(mosaic.width * mosaic.height) / 1e9, levels.count,
                     levels.last!.width, levels.last!.height, quality, tileSize, micronsPerPixel, Double(bytes) / 1e6))
        if annotations != nil { print("\(cellsPath): \(written) annotations; \(fieldsPath): \(mosaic.columns * mosaic.rows) fields") }
        print(String(format: "%.1f s wall, %.0f MB peak resident", seconds, peakResidentMegabytes()))
        if let readBack { try timeReads(side: readBack) }
    }

    /// Reads all of level 0 in `side × side` regions, the regions shared out round-robin among `threads`
    /// threads, and prints the time, the rate and the peak memory so far.
    private func timeReads(side: Int) throws {
        let slide = try Slide(path: out)
        var regions: [(x: Int, y: Int, width: Int, height: Int)] = []
        for y in stride(from: 0, to: slide.height, by: side) {
            for x in stride(from: 0, to: slide.width, by: side) {
                regions.append((x, y, min(side, slide.width - x), min(side, slide.height - y)))
            }
        }
        let failures = Failures(), threads = self.threads, all = regions
        let start = wallSeconds()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in stride(from: thread, to: all.count, by: threads) {
                let r = all[index]
                do {
                    _ = try slide.region(x: r.x, y: r.y, width: r.width, height: r.height)
                } catch {
                    failures.add("\(error)")
                }
            }
        }
        let seconds = wallSeconds() - start
        if let first = failures.first { throw ValidationError("read back failed: \(first)") }
        print(String(format: "read back: level 0 in %d regions of %d px on %d threads: %.1f s wall, %.0f megapixels/s, %.0f MB peak resident",
                     regions.count, side, threads, seconds, Double(slide.width * slide.height) / 1e6 / seconds,
                     peakResidentMegabytes()))
    }

    /// Writes every annotation of every placed field, moved by the field's offset, to `path`; leaves out
    /// boxes not wholly inside the slide and points outside it. Returns the number of lines written.
    private func writeAnnotations(_ byImage: [String: [Annotation]], mosaic: FieldMosaic, paths: [String],
                                  to path: String) throws -> Int {
        let slideName = (out as NSString).lastPathComponent
        var lines = [CSVTable.line(["image", "x", "y", "width", "height", "class", "source_label"])]
        for row in 0..<mosaic.rows {
            for column in 0..<mosaic.columns {
                let name = (paths[mosaic.field(column: column, row: row)] as NSString).lastPathComponent
                let dx = Double(column * mosaic.fieldWidth), dy = Double(row * mosaic.fieldHeight)
                let flipX = mosaic.mirrored && column % 2 == 1, flipY = mosaic.mirrored && row % 2 == 1
                for a in byImage[name] ?? [] {
                    // A flipped field's box starts at its mirrored far corner; a point is mirrored in place.
                    let fx = flipX ? Double(mosaic.fieldWidth) - a.x - (a.width ?? 0) : a.x
                    let fy = flipY ? Double(mosaic.fieldHeight) - a.y - (a.height ?? 0) : a.y
                    let x = fx + dx, y = fy + dy
                    let inside = a.isBox ? x + a.width! <= Double(mosaic.width) && y + a.height! <= Double(mosaic.height)
                        : x < Double(mosaic.width) && y < Double(mosaic.height)
                    guard inside else { continue }
                    lines.append(CSVTable.line([slideName, number(x), number(y), a.width.map(number) ?? "",
                                                a.height.map(number) ?? "", a.kind.rawValue, a.sourceLabel]))
                }
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return lines.count - 1
    }

    /// Writes where each placed field lies in the slide (`MosaicField`, cut to the slide) to `path`.
    private func writePlacement(mosaic: FieldMosaic, paths: [String], to path: String) throws {
        var fields: [MosaicField] = []
        for row in 0..<mosaic.rows {
            for column in 0..<mosaic.columns {
                let x = column * mosaic.fieldWidth, y = row * mosaic.fieldHeight
                fields.append(MosaicField(field: (paths[mosaic.field(column: column, row: row)] as NSString).lastPathComponent,
                                          rect: TileGrid.Rect(x: x, y: y, width: min(mosaic.fieldWidth, mosaic.width - x),
                                                              height: min(mosaic.fieldHeight, mosaic.height - y))))
            }
        }
        try MosaicField.csv(slide: (out as NSString).lastPathComponent, fields).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `value` without a fractional part when it has none ("424", not "424.0").
    private func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// The first error message recorded from several threads.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    var first: String? { lock.withLock { messages.first } }
    func add(_ message: String) { lock.withLock { messages.append(message) } }
}
