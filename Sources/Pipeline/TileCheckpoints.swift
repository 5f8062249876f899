import Foundation
import Segmentation

/// The analyses of a slide's tiles kept on disk as they are made, so that an interrupted slide run can
/// be resumed (`smear analyze --resume`) without segmenting and classifying again the tiles it had
/// done: one file per tile (`TILE.tile`, written beside under a temporary name and renamed, so a file
/// is whole or absent), in a folder that also holds the run's `settings`. A resumed run reads each
/// tile's file instead of analysing it, and re-reads only its pixels for the outputs; it gives the
/// outputs an uninterrupted run gives.
///
/// **Format**: integers as zigzag LEB128 varints, doubles as their 8 little-endian bytes; the tile's
/// analysis as `FieldAnalysis` holds it: the segmentation's size, cell diameter, working scale, seams
/// and measures, each object's id, box, status and mask (each row's runs of set pixels), the calls and
/// the seconds taken. About 300 bytes an object. A file that does not decode (damaged, truncated, of
/// another version) is ignored and the tile analysed again.
public struct TileCheckpoints: Sendable {
    public let folder: String
    static let magic: [UInt8] = Array("smear-tile-1\n".utf8)

    /// The checkpoints in `folder` for a run with `settings` (a text naming the slide and every setting
    /// that changes an analysis). With `resume`, the tiles already there are kept when the folder was
    /// made for the same settings, and throws a one-line error otherwise; without, the folder is
    /// emptied. Creates it if needed.
    public init(folder: String, resume: Bool, settings: String) throws(PipelineError) {
        self.folder = folder
        let fm = FileManager.default
        let settingsPath = folder + "/settings"
        if resume, fm.fileExists(atPath: folder) {
            let previous = (try? String(contentsOfFile: settingsPath, encoding: .utf8)) ?? ""
            guard previous == settings else {
                throw PipelineError("cannot resume: the interrupted run in \(folder) had other settings or another slide (run without --resume to start again)")
            }
            return
        }
        try? fm.removeItem(atPath: folder)
        do {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try settings.write(toFile: settingsPath, atomically: true, encoding: .utf8)
        } catch {
            throw PipelineError("\(folder): cannot keep tile checkpoints: \(error.localizedDescription)")
        }
    }

    /// Number of tiles whose analysis is kept.
    public var count: Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".tile") }.count
    }

    /// The kept analysis of tile `index`, with `path` as its field path; nil when none (or unreadable).
    func load(tile index: Int, path: String) -> FieldAnalysis? {
        guard let data = FileManager.default.contents(atPath: "\(folder)/\(index).tile") else { return nil }
        return Self.decode([UInt8](data), path: path)
    }

    /// Keeps the analysis of tile `index`; a failure to write loses only the checkpoint, not the run.
    func save(_ field: FieldAnalysis, tile index: Int) {
        let target = "\(folder)/\(index).tile", partial = target + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: Data(Self.encode(field))) else { return }
        if rename(partial, target) != 0 { unlink(partial) }
    }

    // MARK: - Codec

    static func encode(_ field: FieldAnalysis) -> [UInt8] {
        var out = magic
        // Integers as zigzag LEB128 varints (1 byte below 64), doubles as their 8 bytes.
        func int(_ v: Int) {
            var z = UInt64(bitPattern: Int64(v << 1) ^ Int64(v >> 63))
            while z >= 0x80 { out.append(UInt8(z & 0x7F) | 0x80); z >>= 7 }
            out.append(UInt8(z))
        }
        func double(_ v: Double) { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        func optional(_ v: Double?) { int(v == nil ? 0 : 1); double(v ?? 0) }
        let s = field.segmentation
        int(s.width); int(s.height); double(s.cellDiameter); int(s.diameterEstimated ? 1 : 0); int(s.workingScale)
        int(s.seams.columns.count); s.seams.columns.forEach(int)
        int(s.seams.rows.count); s.seams.rows.forEach(int)
        optional(s.outlineContrast); optional(s.backgroundTexture)
        optional(s.stain?.redToGreen); optional(s.stain?.blueToGreen)
        double(Double(s.glass.red)); double(Double(s.glass.green)); double(Double(s.glass.blue))
        int(s.objects.count)
        for o in s.objects {
            int(o.id); int(o.x); int(o.y); int(o.width); int(o.height)
            int(ObjectStatus.allCases.firstIndex(of: o.status)!)
            // Each row's runs of set pixels: their number, then the start and length of each.
            for my in 0..<o.height {
                var runs: [Int] = []
                var mx = 0
                while mx < o.width {
                    guard o.mask.bits[my * o.width + mx] != 0 else { mx += 1; continue }
                    let start = mx
                    while mx < o.width && o.mask.bits[my * o.width + mx] != 0 { mx += 1 }
                    runs += [start, mx - start]
                }
                int(runs.count / 2); runs.forEach(int)
            }
        }
        let calls = field.calls.sorted { $0.key < $1.key }
        int(calls.count)
        for (id, call) in calls { int(id); double(call.pParasitized); int(call.parasitized ? 1 : 0) }
        double(field.seconds)
        return out
    }

    static func decode(_ bytes: [UInt8], path: String) -> FieldAnalysis? {
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else { return nil }
        var at = magic.count
        func int() -> Int? {
            var z: UInt64 = 0, shift: UInt64 = 0
            while at < bytes.count && shift < 64 {
                let b = bytes[at]
                at += 1
                z |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return Int(Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1)) }
                shift += 7
            }
            return nil
        }
        func double() -> Double? {
            guard at + 8 <= bytes.count else { return nil }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
            at += 8
            return Double(bitPattern: v)
        }
        func optional() -> Double?? { guard let flag = int(), let v = double() else { return nil }; return .some(flag == 0 ? nil : v) }
        func count(_ limit: Int) -> Int? { int().flatMap { (0...limit).contains($0) ? $0 : nil } }
        guard let width = int(), let height = int(), width > 0, height > 0, width <= 1 << 20, height <= 1 << 20,
              let diameter = double(), let estimated = int(), let scale = int(),
              let nc = count(width) else { return nil }
        var columns: [Int] = []
        for _ in 0..<nc { guard let c = int() else { return nil }; columns.append(c) }
        guard let nr = count(height) else { return nil }
        var rows: [Int] = []
        for _ in 0..<nr { guard let r = int() else { return nil }; rows.append(r) }
        guard let contrast = optional(), let texture = optional(), let redToGreen = optional(), let blueToGreen = optional(),
              let gr = double(), let gg = double(), let gb = double(), let objectCount = count(width * height) else { return nil }
        var objects: [DetectedObject] = []
        for _ in 0..<objectCount {
            guard let id = int(), let x = int(), let y = int(), let w = int(), let h = int(), let status = int(),
                  w > 0, h > 0, w <= width, h <= height, ObjectStatus.allCases.indices.contains(status) else { return nil }
            var mask = BinaryImage(width: w, height: h)
            for my in 0..<h {
                guard let runCount = count(w) else { return nil }
                for _ in 0..<runCount {
                    guard let start = int(), let length = int(), start >= 0, length >= 0, start + length <= w else { return nil }
                    for i in (my * w + start)..<(my * w + start + length) { mask.bits[i] = 1 }
                }
            }
            objects.append(DetectedObject(id: id, x: x, y: y, mask: mask, status: ObjectStatus.allCases[status]))
        }
        guard let callCount = count(objectCount) else { return nil }
        var calls: [Int: CellCall] = [:]
        for _ in 0..<callCount {
            guard let id = int(), let p = double(), let parasitized = int() else { return nil }
            calls[id] = CellCall(pParasitized: p, parasitized: parasitized != 0)
        }
        guard let seconds = double(), at == bytes.count else { return nil }
        let stain = redToGreen.flatMap { r in blueToGreen.map { StainRatios(redToGreen: r, blueToGreen: $0) } }
        let segmentation = SegmentationResult(width: width, height: height, objects: objects, cellDiameter: diameter,
                                              diameterEstimated: estimated != 0, workingScale: scale,
                                              seams: Seams(columns: columns, rows: rows), outlineContrast: contrast,
                                              backgroundTexture: texture, stain: stain,
                                              glass: (Float(gr), Float(gg), Float(gb)))
        return FieldAnalysis(path: path, segmentation: segmentation, calls: calls, seconds: seconds)
    }
}
