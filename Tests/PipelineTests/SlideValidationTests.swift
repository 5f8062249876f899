import ImageCodecs
import Testing
@testable import Pipeline
import Segmentation

/// `SlideValidation` on hand-made tiles: the field rules hold across tiles, a mosaic's field edges,
/// tiles not counted; and the helpers it stands on (`MosaicField`, `SpatialIndex`).
@Suite struct SlideValidationTests {
    typealias V = ValidationTests

    /// A 200 × 100 slide in two tiles: cores x 0..<100 and 100..<200, each read 20 px wider.
    static let grid = TileGrid(width: 200, height: 100, coreSize: 100, margin: 20)

    /// Tile `index` as the run sends it: the objects (in slide pixels) whose centroid lies in its core,
    /// moved into the coordinates of the region it read, with their calls.
    static func tile(_ index: Int, _ objects: [DetectedObject], calls: [Int: CellCall] = [:], unfit: String? = nil) -> AnalysedTile {
        let t = grid.tiles[index]
        let owned = objects.filter { t.core.contains($0.centroidX, $0.centroidY) }.map { o -> DetectedObject in
            var moved = o
            moved.x -= t.read.x; moved.y -= t.read.y
            moved.centroidX -= Double(t.read.x); moved.centroidY -= Double(t.read.y)
            return moved
        }
        let ids = Set(owned.map(\.id))
        let segmentation = SegmentationResult(width: t.read.width, height: t.read.height, objects: owned, cellDiameter: 20,
                                              diameterEstimated: true, workingScale: 1)
        return AnalysedTile(sample: "s", slide: "dir/s.tiff", tile: t,
                            field: FieldAnalysis(path: "dir/s.tiff#tile-\(index)", segmentation: segmentation,
                                                 calls: calls.filter { ids.contains($0.key) }, seconds: 0),
                            image: RGBImage(width: 1, height: 1), heatmaps: [:], unfit: unfit)
    }

    /// Validates `objects` as the slide's two tiles (tile 1 not counted when `unfit`).
    static func slide(_ objects: [DetectedObject], _ annotations: [Annotation], calls: [Int: CellCall] = [:],
                      mosaic: [MosaicField] = [], unfit: String? = nil) -> SlideValidation.Result {
        let validation = SlideValidation(slide: "s.tiff", annotations: annotations, mosaic: mosaic)
        validation.add(tile(1, objects, calls: calls, unfit: unfit))   // tiles arrive in any order
        validation.add(tile(0, objects, calls: calls))
        return validation.finish(grid: grid, countedTiles: unfit == nil ? [0, 1] : [0], tilesAnalysed: 2, diameter: 20)
    }

    @Test("a slide without a mosaic gives the figures of the same image validated as one field")
    func sameAsAField() {
        let objects = [V.object(1, x: 10, y: 10), V.object(2, x: 40, y: 10), V.object(3, x: 91, y: 40),  // centroid x 100.5: tile 1
                       V.object(4, x: 120, y: 60), V.object(5, x: 150, y: 20), V.object(6, x: 0, y: 70, status: .border),
                       V.object(7, x: 160, y: 60, size: 30, status: .leukocyte)]
        let annotations = [V.box(10, 10, 20, 20, .parasitized), V.box(41, 12), V.box(86, 40),   // centre x 96: tile 0
                           V.point(128, 70), V.box(150, 20, 20, 20, .parasitized), V.box(0, 70),  // the last on the edge
                           V.point(60, 80), V.box(160, 60, 30, 30, .leukocyte), V.point(30, 3)]
        let calls: [Int: CellCall] = [1: CellCall(pParasitized: 0.9, parasitized: true), 2: CellCall(pParasitized: 0.8, parasitized: true),
                                      3: CellCall(pParasitized: 0.1, parasitized: false), 4: CellCall(pParasitized: 0.2, parasitized: false),
                                      5: CellCall(pParasitized: 0.3, parasitized: false)]
        let whole = SegmentationResult(width: 200, height: 100, objects: objects, cellDiameter: 20, diameterEstimated: true, workingScale: 1)
        let field = FieldValidation(image: "s.tiff", segmentation: whole, annotations: annotations, calls: calls)
        let result = Self.slide(objects, annotations, calls: calls)
        #expect(result.fields == [field])
        #expect(field.matched == 5 && field.annotated == 6 && field.leukocytesIdentified == 1)
        #expect((field.truePositives, field.falseNegatives, field.trueNegatives, field.falsePositives) == (1, 1, 2, 1))
        #expect(result.outcomes[2] == .matched(detection: 3))   // annotation in tile 0, its cell owned by tile 1
        #expect(result.outcomes[5] == .ignored("slide edge") && result.outcomes[8] == .ignored("slide edge"))
        #expect(result.outcomes[6] == .missed)
        #expect(result.matchedDetections == [1: 0, 2: 1, 3: 2, 4: 3, 5: 4])
    }

    @Test("in a mosaic, annotations touching their field's edge are ignored and figures are per field")
    func mosaicFields() {
        let mosaic = [MosaicField(field: "a.jpg", rect: TileGrid.Rect(x: 0, y: 0, width: 100, height: 100)),
                      MosaicField(field: "b.jpg", rect: TileGrid.Rect(x: 100, y: 0, width: 100, height: 100))]
        let objects = [V.object(1, x: 20, y: 20), V.object(2, x: 120, y: 20), V.object(3, x: 150, y: 60)]
        // Field a: an interior box and one touching the seam at x = 100 (a half cell in field a alone).
        let annotations = [V.box(20, 20), V.box(81, 50), V.box(120, 20), V.box(150, 60)]
        let result = Self.slide(objects, annotations, mosaic: mosaic)
        #expect(result.fields.map(\.image) == ["s.tiff#a.jpg", "s.tiff#b.jpg"])
        #expect(result.fields.map(\.annotated) == [1, 2] && result.fields.map(\.detected) == [1, 2])
        #expect(result.fields.map(\.matched) == [1, 2])
        #expect(result.outcomes[1] == .ignored("field edge"))
        #expect(result.annotationFrames == ["s.tiff#a.jpg", "s.tiff#a.jpg", "s.tiff#b.jpg", "s.tiff#b.jpg"])
        #expect(result.detectionFrames == ["s.tiff#a.jpg", "s.tiff#b.jpg", "s.tiff#b.jpg"])
        // A field placed twice is named apart.
        let twice = SlideValidation(slide: "s.tiff", annotations: [], mosaic: [mosaic[0], MosaicField(field: "a.jpg", rect: mosaic[1].rect)])
        #expect(twice.frames(width: 200, height: 100).map(\.name) == ["s.tiff#a.jpg", "s.tiff#a.jpg (2)"])
    }

    @Test("a tile not counted gives no cells, and the annotations centred in it are left out")
    func tileNotCounted() {
        let objects = [V.object(1, x: 20, y: 20), V.object(2, x: 91, y: 40), V.object(3, x: 150, y: 20)]
        let annotations = [V.box(20, 20), V.box(86, 40), V.box(150, 20)]
        let result = Self.slide(objects, annotations, unfit: "sparse (feathered edge)")
        #expect(result.fields.count == 1)
        #expect(result.fields[0].annotated == 2 && result.fields[0].detected == 1 && result.fields[0].matched == 1)
        // The second annotation's centre is in tile 0, its cell's centroid in tile 1: missed.
        #expect(result.outcomes == [.matched(detection: 1), .missed, .ignored("tile not counted")])
        #expect(result.tilesAnalysed == 2 && result.tilesCounted == 1)
    }

    @Test("fields.csv: written and read back, told apart from annotation files, malformed lines named")
    func mosaicFile() throws {
        let fields = [MosaicField(field: "a, b.jpg", rect: TileGrid.Rect(x: 0, y: 0, width: 1280, height: 960)),
                      MosaicField(field: "c.jpg", rect: TileGrid.Rect(x: 1280, y: 0, width: 640, height: 960))]
        let text = MosaicField.csv(slide: "slide.tiff", fields)
        #expect(MosaicField.isPlacement(text))
        #expect(try MosaicField.parse(text, name: "fields.csv") == ["slide.tiff": fields])
        #expect(!MosaicField.isPlacement("image,x,y,width,height,class,source_label\nf.jpg,1,2,3,4,uninfected,x\n"))
        #expect(throws: PipelineError.self) { try MosaicField.parse("image,field,x,y,width,height\ns,f,1,2,0,4\n", name: "f.csv") }
        do {
            _ = try MosaicField.parse("image,field,x,y,width,height\ns,f,1,2,3\n", name: "f.csv")
            Issue.record("a short line was accepted")
        } catch {
            #expect(error.description == "f.csv: line 2 is malformed")
        }
    }

    @Test("the spatial index finds items by the buckets they meet; odd rectangles are found everywhere")
    func spatialIndex() {
        var index = SpatialIndex(cell: 10)
        index.insert(0, x: 5, y: 5, width: 0, height: 0)
        index.insert(1, x: 8, y: 8, width: 15, height: 4)
        index.insert(2, x: .nan, y: 0, width: 1, height: 1)
        index.insert(3, x: 0, y: 0, width: 1e9, height: 1)
        index.insert(4, x: 100, y: 100, width: 1, height: 1)
        #expect(index.items(x: 21, y: 9, width: 0, height: 0) == [1, 2, 3])
        #expect(index.items(x: 0, y: 0, width: 9, height: 9) == [0, 1, 2, 3])
        #expect(index.items(x: 95, y: 95, width: 10, height: 10) == [2, 3, 4])
    }
}
