import Foundation
import ImageCodecs
import Testing
@testable import Classifier
@testable import NeuralNetwork

/// The repository's `fixtures/cells` folder.
let fixtureCells = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/cells").path

@Suite("Data: group keys, splits, preprocessing, augmentation, metrics")
struct DataTests {
    @Test func nihGroupKeys() throws {
        let key = try GroupKey()
        #expect(key.key("C33P1thinF_IMG_20150619_114756a_cell_179.png") == "P1")
        #expect(key.key("C101P62ThinF_IMG_20150918_151006_cell_61.png") == "P62")
        #expect(key.key("C37BP2_thinF_IMG_20150620_132847a_cell_60.png") == "P2")
        #expect(key.key("C1_thinF_IMG_20150604_104722_cell_115.png") == "C1")
        #expect(key.key("C201ThinF_IMG_20151029_143224_cell_13.png") == "C201")
        #expect(key.key("unrelated.png") == nil)
        #expect(try GroupKey(pattern: "^([a-z]+)_").key("slideA_12.png") == nil)
        #expect(try GroupKey(pattern: "^([a-zA-Z]+)_").key("slideA_12.png") == "slideA")
        #expect(throws: GroupKeyError.self) { try GroupKey(pattern: "(") }
    }

    @Test func folderListingAndGroupedSplit() throws {
        let folder = try LabelledFolder(root: fixtureCells, groupKey: GroupKey())
        #expect(folder.classNames == ["Parasitized", "Uninfected"])
        #expect(folder.classCounts == [8, 9])
        #expect(Set(folder.entries.map(\.group)) == ["P20", "P60", "C1"])
        // Every group lands wholly on one side, the same way for the same seed.
        for seed: UInt64 in 0 ..< 20 {
            for e in folder.entries {
                let side = GroupKey.isValidation(e.group, fraction: 0.5, seed: seed)
                #expect(folder.entries.filter { $0.group == e.group }.allSatisfy { GroupKey.isValidation($0.group, fraction: 0.5, seed: seed) == side })
            }
        }
        let share = (0 ..< 1000).filter { GroupKey.isValidation("P\($0)", fraction: 0.2, seed: 1) }.count
        #expect(share > 150 && share < 250)
        #expect(throws: DatasetError.self) { try LabelledFolder(root: fixtureCells + "/Parasitized", groupKey: GroupKey()) }
        #expect(throws: DatasetError.self) { try LabelledFolder(root: fixtureCells, groupKey: GroupKey(), classNames: ["Parasitized"]) }
        // A model's class names match folders whatever their case (smear crops writes lower-case names),
        // and the labels follow the model's order.
        let byModel = try LabelledFolder(root: fixtureCells, groupKey: GroupKey(), classNames: ["uninfected", "PARASITIZED"])
        #expect(byModel.classNames == ["uninfected", "PARASITIZED"])
        #expect(byModel.classCounts == [9, 8])
        let adopted = try #require(folder.adopting(classNames: ["uninfected", "PARASITIZED"]))
        #expect(adopted.classNames == byModel.classNames && adopted.entries.map(\.label) == byModel.entries.map(\.label))
        #expect(folder.adopting(classNames: ["infected", "normal"]) == nil)
    }

    /// Class folders become a model's class names, so they follow the same rule: two folders whose names
    /// differ only in case would make a model that does not load.
    @Test func classFoldersDifferingOnlyInCaseAreRefused() throws {
        let root = NSTemporaryDirectory() + "/smear-case-folders-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let png = try Data(contentsOf: URL(fileURLWithPath: fixtureCells + "/Parasitized/C59P20thinF_IMG_20150803_111244_cell_165.png"))
        for name in ["Parasitized", "parasitized"] {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            try png.write(to: URL(fileURLWithPath: root + "/\(name)/C1P1_cell_1.png"))
        }
        #expect(throws: DatasetError.self) { try LabelledFolder(root: root, groupKey: GroupKey()) }
        do { _ = try LabelledFolder(root: root, groupKey: GroupKey()) } catch {
            #expect("\(error)" == "\(root): class names 'Parasitized' and 'parasitized' are the same ignoring case")
        }
        // Under a model's names both folders are that class.
        #expect(try LabelledFolder(root: root, groupKey: GroupKey(), classNames: ["Parasitized", "Uninfected"]).classCounts == [2, 0])
    }

    @Test func padToSquareThenAreaResize() {
        // 4×2 image: left half red (200), right half blue (100); padded to 4×4 with rows of black above and below.
        var image = RGBImage(width: 4, height: 2)
        for y in 0 ..< 2 { for x in 0 ..< 4 { image[x, y] = x < 2 ? (200, 0, 0) : (0, 0, 100) } }
        let padded = Preprocessing(fit: .pad).resize(image, width: 2, height: 2)
        #expect(padded[0, 0] == (100, 0, 0) && padded[1, 0] == (0, 0, 50) && padded[0, 1] == (100, 0, 0))
        let stretched = Preprocessing(fit: .stretch).resize(image, width: 2, height: 1)
        #expect(stretched[0, 0] == (200, 0, 0) && stretched[1, 0] == (0, 0, 100))
        // Non-integer ratio: 3 → 2 averages 1.5 pixels each.
        let row = RGBImage(width: 3, height: 1, pixels: [0, 0, 0, 90, 90, 90, 180, 180, 180])
        let r = Preprocessing(fit: .stretch).resize(row, width: 2, height: 1)
        #expect(r[0, 0].r == 30 && r[1, 0].r == 150)
    }

    /// The pointer-based resize (and its fused planar output) against the original array-based one: the
    /// same bytes for every geometry, so training inputs and inference inputs did not change.
    @Test func fastResizeEqualsReference() {
        var rng = SeededGenerator(seed: 17)
        // (47, 48), (48, 47), (49, 50), (15, 16): padding one pixel puts the crop at offset 0 in a square of the
        // output's size, which is not the identity.
        let sizes = [(80, 60), (60, 80), (48, 48), (47, 13), (13, 47), (150, 149), (5, 3), (1, 1), (96, 96), (31, 200), (49, 48),
                     (47, 48), (48, 47), (49, 50), (15, 16)]
        for (w, h) in sizes {
            let image = RGBImage(width: w, height: h, pixels: (0 ..< w * h * 3).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            for fit in Preprocessing.Fit.allCases {
                let pre = Preprocessing(fit: fit)
                for (ow, oh) in [(48, 48), (50, 50), (16, 16), (7, 5)] {
                    let side = max(w, h), pad = fit == .pad && w != h
                    let expected = Preprocessing.referenceAreaResize(image, width: ow, height: oh, sourceWidth: pad ? side : nil,
                                                                     sourceHeight: pad ? side : nil, offsetX: pad ? (side - w) / 2 : 0,
                                                                     offsetY: pad ? (side - h) / 2 : 0)
                    let fast = pre.resize(image, width: ow, height: oh)
                    #expect(fast == expected, "\(w)×\(h) \(fit) → \(ow)×\(oh)")
                    #expect(fast.width == ow && fast.height == oh && fast.pixels.count == 3 * ow * oh, "\(w)×\(h) \(fit) → \(ow)×\(oh) size")
                    var viaPlanar = [Float](repeating: 0, count: 3 * ow * oh), fused = viaPlanar
                    pre.planar(expected, into: &viaPlanar)
                    fused.withUnsafeMutableBufferPointer { pre.input(image, width: ow, height: oh, into: $0.baseAddress!) }
                    #expect(fused == viaPlanar, "\(w)×\(h) \(fit) → \(ow)×\(oh) planar")
                }
            }
        }
    }

    /// A 47×48 crop padded to 48×48 keeps its pixels where they are and gains one black column (it was
    /// once taken for the identity and read past its end).
    @Test func oneColumnShortCropIsPadded() {
        var rng = SeededGenerator(seed: 3)
        let image = RGBImage(width: 47, height: 48, pixels: (0 ..< 47 * 48 * 3).map { _ in UInt8(1 + rng.next() % 255) })
        let out = Preprocessing(fit: .pad).resize(image, width: 48, height: 48)
        #expect(out.width == 48 && out.height == 48)
        for y in 0 ..< 48 {
            for x in 0 ..< 47 { #expect(out[x, y] == image[x, y]) }
            #expect(out[47, y] == (0, 0, 0))
        }
    }

    @Test func augmentationKeepsBackgroundAndPixels() {
        var image = RGBImage(width: 4, height: 4)
        image[1, 0] = (200, 100, 50); image[2, 3] = (10, 20, 30)
        let pre = Preprocessing()
        var plain = [Float](repeating: 0, count: 48), augmented = plain
        pre.planar(image, into: &plain)
        var rng = SeededGenerator(seed: 5)
        image.pixels.withUnsafeBufferPointer { Augmentation.none.apply($0.baseAddress!, side: 4, scale: pre.scale, into: &augmented, rng: &rng) }
        #expect(plain == augmented)
        let geometric = Augmentation(symmetries: true, brightness: 0, contrast: 0, hue: 0)
        for _ in 0 ..< 8 {
            image.pixels.withUnsafeBufferPointer { geometric.apply($0.baseAddress!, side: 4, scale: pre.scale, into: &augmented, rng: &rng) }
            #expect(augmented.filter { $0 != 0 }.sorted() == plain.filter { $0 != 0 }.sorted())
        }
        image.pixels.withUnsafeBufferPointer { Augmentation(brightness: 0.3, contrast: 0.3, hue: 0.3).apply($0.baseAddress!, side: 4, scale: pre.scale, into: &augmented, rng: &rng) }
        #expect(augmented.filter { $0 != 0 }.count == 6 && augmented.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// JPEG compression in training: the same draws as without it (symmetry and colour), about half
    /// of the crops changed, the change that of a JPEG generation (small, never outside the mask), and
    /// the background black.
    @Test func augmentationCompressesHalfTheCropsWithinTheMask() {
        // A 48 × 48 crop: a pink disc with dark dots (chromatin at the rim) on black.
        var crop = RGBImage(width: 48, height: 48)
        for y in 0 ..< 48 {
            for x in 0 ..< 48 where (x - 24) * (x - 24) + (y - 24) * (y - 24) <= 400 {
                crop[x, y] = (UInt8(190 + (x * 3) % 20), UInt8(120 + (y * 5) % 30), 150)
            }
        }
        for (x, y) in [(24, 6), (40, 24), (25, 25)] { crop[x, y] = (60, 20, 90); crop[x + 1, y] = (70, 25, 95) }
        let pre = Preprocessing(), plane = 48 * 48
        let plain = Augmentation(), compressed = Augmentation(jpeg: 40)
        var changed = 0
        for seed in UInt64(0) ..< 200 {
            var a = [Float](repeating: 0, count: 3 * plane), b = a
            var rngA = SeededGenerator(seed: seed), rngB = SeededGenerator(seed: seed)
            crop.pixels.withUnsafeBufferPointer {
                plain.apply($0.baseAddress!, side: 48, scale: pre.scale, into: &a, rng: &rngA)
                compressed.apply($0.baseAddress!, side: 48, scale: pre.scale, into: &b, rng: &rngB)
            }
            // The background (black in the uncompressed output) is exactly the black of the compressed one.
            let background = { (v: [Float], i: Int) in v[i] == 0 && v[plane + i] == 0 && v[2 * plane + i] == 0 }
            #expect((0 ..< plane).allSatisfy { background(a, $0) == background(b, $0) })
            guard a != b else { continue }
            changed += 1
            let meanChange = zip(a, b).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(a.count) / pre.scale
            #expect(meanChange > 0 && meanChange < 8, "seed \(seed): mean change \(meanChange) of 255")
        }
        #expect(changed > 70 && changed < 130, "\(changed) of 200 compressed")
    }

    @Test func evaluationFigures() {
        let p: [[Float]] = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8], [0.55, 0.45]]
        let e = Evaluation(probabilities: p, labels: [0, 1, 1, 1, 0], classNames: ["Parasitized", "Uninfected"], positive: 0)
        #expect(e.confusion == [[2, 0], [1, 2]])
        #expect(abs(e.accuracy - 0.8) < 1e-12)
        #expect(abs(e.classes[0].precision - 2.0 / 3) < 1e-12 && e.classes[0].recall == 1)
        #expect(abs(e.auc! - 5.0 / 6) < 1e-12)  // 5 of the 6 (parasitized, uninfected) pairs are ordered right
        #expect(Evaluation.rocAUC(scores: [0.5, 0.5, 0.1], positives: [true, false, false]) == 0.75)
        #expect(Evaluation.rocAUC(scores: [0.5], positives: [true]) == nil)
    }

    @Test func evaluationAtAThreshold() {
        let p: [[Float]] = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8], [0.55, 0.45]]
        let labels = [0, 1, 1, 1, 0], names = ["Parasitized", "Uninfected"]
        let e = Evaluation(probabilities: p, labels: labels, classNames: names, positive: 0, threshold: 0.58)
        #expect(e.threshold == 0.58 && e.confusion == [[1, 1], [1, 2]])  // 0.55 is no longer called
        #expect(abs(e.accuracy - 0.6) < 1e-12)
        let argmax = Evaluation(probabilities: p, labels: labels, classNames: names, positive: 0)
        #expect(e.auc == argmax.auc && e.loss == argmax.loss, "the threshold moves the calls only")
        #expect(Evaluation(probabilities: p, labels: labels, classNames: names, positive: 0, threshold: 0.5).confusion == argmax.confusion)
        // Only two classes with a positive one take a threshold; the argmax keeps the first of equal maxima.
        #expect(Evaluation(probabilities: p, labels: labels, classNames: names, threshold: 0.58).threshold == nil)
        #expect(Evaluation.decision([0.5, 0.5], positive: 1, threshold: 0.5) == 1)
        #expect(Evaluation.decision([0.5, 0.5], positive: 1, threshold: nil) == 0)
        #expect(Evaluation.decision([0.2, 0.5, 0.3], positive: 0, threshold: 0.1) == 1)
    }
}
