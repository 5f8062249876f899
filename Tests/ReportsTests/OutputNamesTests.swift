import Foundation
import Pipeline
import PropertyBased
import Segmentation
import Testing
@testable import Reports

/// File names made from input names: one valid component inside its folder, at most 255 bytes, never
/// hidden, distinct for distinct inputs (ignoring case), the same in every run.
@Suite struct OutputNamesTests {
    /// Whether `name` is a safe file name component: 1–255 bytes, not hidden (so never "." or ".."),
    /// no "/" and no control characters.
    static func isSafeComponent(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && name.unicodeScalars.first != "."
            && !name.unicodeScalars.contains { $0 == "/" || $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    /// Lists of paths with hostile names, duplicates, case variants, names differing only after 250
    /// bytes, and names that clash with the "-2" suffixes.
    static let pathLists = Generator<[String], Shrink.None<[String]>> { rng in
        var paths: [String] = []
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !paths.isEmpty: paths.append("other/" + lastComponent(paths.randomElement(using: &rng)!))
            case 1 where !paths.isEmpty: paths.append(paths.randomElement(using: &rng)!.uppercased())
            case 2 where !paths.isEmpty: paths.append(withoutExtension(paths.randomElement(using: &rng)!) + "-2.png")
            case 3: paths.append("in/" + String(repeating: "é", count: 130) + Hostile.name(&rng, maxLength: 20) + ".jpg")
            default: paths.append(["", "in/", "/abs/"].randomElement(using: &rng)! + Hostile.name(&rng))
            }
        }
        return paths
    }

    @Test func overlayNamesAreSafeDistinctAndStable() async {
        await propertyCheck(count: 200, input: Self.pathLists) { paths in
            let names = overlayFileNames(for: paths)
            #expect(names.count == paths.count)
            #expect(names == overlayFileNames(for: paths))
            #expect(Set(names.map { $0.lowercased() }).count == names.count, "\(names)")
            for name in names {
                // By bytes: a stem may start with a combining mark, which joins "/" into one Character.
                #expect(name.utf8.starts(with: "overlays/".utf8) && name.utf8.reversed().starts(with: ".png".utf8.reversed()))
                #expect(Self.isSafeComponent(String(decoding: name.utf8.dropFirst("overlays/".utf8.count), as: UTF8.self)),
                        "\(name.debugDescription)")
            }
            // Ordinary names are kept: the file name without its extension.
            for (path, name) in zip(paths, names) {
                let stem = withoutExtension(lastComponent(path))
                if !stem.isEmpty && stem.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
                   names.filter({ $0.lowercased() == name.lowercased() }).count == 1, paths.firstIndex(of: path) == names.firstIndex(of: name),
                   !paths.prefix(while: { $0 != path }).contains(where: { withoutExtension(lastComponent($0)).lowercased() == stem.lowercased() }) {
                    #expect(name == "overlays/\(stem).png")
                }
            }
            // Cell pictures: safe, and distinct across overlays and ids.
            let ids = [0, 1, 7, Int.max, Int.min, -1]
            let cells = names.flatMap { overlay in ids.map { cellFileName(overlay: overlay, id: $0) } }
            #expect(cells.allSatisfy(Self.isSafeComponent))
            #expect(Set(cells.map { $0.lowercased() }).count == cells.count)
        }
    }

    @Test func examples() {
        #expect(overlayFileNames(for: ["a/x.jpg", "b/x.jpg", "x-2.jpg", "X.JPG"]) == ["overlays/x.png", "overlays/x-2.png", "overlays/x-2-2.png", "overlays/X-3.png"])
        #expect(overlayFileNames(for: ["..", ".", ".hidden.jpg", "", "/", "a\0b\nc.jpg", ".smear-files"])
                == ["overlays/_.png", "overlays/_-2.png", "overlays/_hidden.png", "overlays/_-3.png", "overlays/_-4.png",
                    "overlays/a_b_c.png", "overlays/_smear-files.png"])
        #expect(cellFileName(overlay: "overlays/PA171690.png", id: 12) == "PA171690_cell_12.png")
        #expect(cellFileName(overlay: "overlays/a.png.png", id: 3) == "a.png_cell_3.png")
        #expect(cellFileName(overlay: "../../etc/passwd", id: 1) == "passwd_cell_1.png")
        // A 250-byte name: with "_cell_123456.png" it would exceed NAME_MAX, so its stem is shortened
        // to 225 bytes ending in a hash of the whole stem, the same in every run.
        let long = String(repeating: "a", count: 246) + ".JPG"
        let overlay = overlayFileNames(for: [long])[0]
        let stem = String(repeating: "a", count: 208) + "~a869a83a0cf1c4bb"
        #expect(overlay == "overlays/\(stem).png")
        #expect(cellFileName(overlay: overlay, id: 123_456) == "\(stem)_cell_123456.png")
        #expect(cellFileName(overlay: long, id: Int.min).utf8.count <= 255)
        // Names that differ only past the cut get different hashes.
        let other = overlayFileNames(for: [String(repeating: "a", count: 246) + "b.JPG"])[0]
        #expect(other != overlay && other.hasPrefix("overlays/" + String(repeating: "a", count: 208) + "~"))
        // Multi-byte characters are never cut in half.
        let accented = overlayFileNames(for: [String(repeating: "é", count: 200) + ".jpg"])[0]
        #expect(accented.utf8.count <= "overlays/".utf8.count + 255 && accented.hasPrefix("overlays/" + String(repeating: "é", count: 104) + "~"))
    }

    /// The gallery writes each parasitized cell's picture under `cells/` with `cellFileName`: files
    /// of hostile fields land inside the output folder under those names.
    @Test func galleryPicturesLandInsideTheOutputFolder() throws {
        let root = NSTemporaryDirectory() + "smear-gallery-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = try OutputFolder(path: root + "/out")
        let paths = ["in/../..", "in/" + String(repeating: "ü", count: 125) + ".jpg", "in/.x#?%\"'.jpg"]
        let overlays = overlayFileNames(for: paths)
        let gallery = ParasitizedGallery()
        for (path, overlay) in zip(paths, overlays) {
            let object = DetectedObject(id: Int.max, x: 2, y: 2, mask: BinaryImage(width: 4, height: 4, bits: [UInt8](repeating: 1, count: 16)),
                                        status: .counted)
            let field = FieldAnalysis(path: path, segmentation: SegmentationResult(width: 10, height: 10, objects: [object], cellDiameter: 4,
                                                                                   diameterEstimated: true, workingScale: 1),
                                      calls: [Int.max: CellCall(pParasitized: 0.9, parasitized: true)], seconds: 0)
            try gallery.add(field: field, image: Hostile.field(width: 10, height: 10), overlay: overlay, to: folder)
        }
        try folder.commit()
        let pictures = gallery.items.map(\.picture)
        #expect(pictures.count == 3 && Set(pictures).count == 3)
        for picture in pictures {
            #expect(picture.utf8.starts(with: "cells/".utf8) && Self.isSafeComponent(String(decoding: picture.utf8.dropFirst(6), as: UTF8.self)))
            #expect(FileManager.default.fileExists(atPath: root + "/out/" + picture), "\(picture)")
        }
    }
}
