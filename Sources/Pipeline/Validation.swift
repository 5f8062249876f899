import Segmentation

/// Agreement of one field's detections with its expert annotations.
///
/// Rules: annotations touching the image border are ignored (a point closer to the border than the
/// typical cell radius counts as touching), as are detections marked `border`. Red-cell annotations
/// are matched one-to-one with counted detections: a box with the detection of highest box IoU
/// (at least 0.3), a point with the nearest detection whose mask contains it; pairs are taken best
/// first. Leukocyte annotations are "identified" when matched (same rules) to a `leukocyte` detection
/// and "excluded" when no counted detection has its centroid in the middle half of the annotation
/// (for points: within half a cell radius).
///
/// With classifier calls: on matched cells whose annotation is parasitized or uninfected, the
/// confusion counts of the calls; and the field's parasitemia as predicted (parasitized calls /
/// counted cells) and as annotated (parasitized / red-cell annotations, interior ones). Where not
/// every cell is annotated the annotated parasitemia is an approximation.
public struct FieldValidation: Sendable, Equatable {
    public var image: String
    /// Interior red-cell annotations.
    public var annotated = 0
    /// Counted detections (interior by construction).
    public var detected = 0
    public var matched = 0
    public var leukocytesAnnotated = 0
    public var leukocytesIdentified = 0
    public var leukocytesExcluded = 0
    /// Matched red cells: the annotation's index in the input and the detection's id.
    public var pairs: [MatchedPair] = []
    /// Indices of the interior red-cell and leukocyte annotations (those the figures count).
    public var considered: Set<Int> = []
    /// Whether classifier calls were compared (all figures below are 0 otherwise).
    public var classified = false
    /// Matched cells by annotated class (parasitized / uninfected) and call.
    public var truePositives = 0, falseNegatives = 0, trueNegatives = 0, falsePositives = 0
    /// Counted cells called parasitized (all counted cells, matched or not).
    public var calledParasitized = 0
    /// Interior red-cell annotations of class parasitized.
    public var annotatedParasitized = 0

    public init(image: String) { self.image = image }

    /// Compares `segmentation` (and the classifier's `calls`, if any) with `annotations` of the same field.
    public init(image: String, segmentation: SegmentationResult, annotations: [Annotation], calls: [Int: CellCall] = [:]) {
        self.image = image
        // Typical cell radius: the median equivalent radius of the counted cells (the estimated
        // diameter measures between edge centres and runs a little small).
        let areas = segmentation.objects.filter { $0.status == .counted }.map(\.area).sorted()
        let radius = areas.isEmpty ? segmentation.cellDiameter / 2 : (Double(areas[areas.count / 2]) / .pi).squareRoot()
        let width = Double(segmentation.width), height = Double(segmentation.height)
        func interior(_ a: Annotation) -> Bool {
            if let w = a.width, let h = a.height {
                return a.x > 0.5 && a.y > 0.5 && a.x + w < width - 0.5 && a.y + h < height - 0.5
            }
            return a.x >= radius && a.y >= radius && a.x <= width - radius && a.y <= height - radius
        }
        let counted = segmentation.objects.filter { $0.status == .counted }
        let leukocytes = segmentation.objects.filter { $0.status == .leukocyte }
        let cells = annotations.indices.filter { annotations[$0].isRedCell && interior(annotations[$0]) }
        annotated = cells.count
        detected = counted.count
        pairs = Self.match(cells, annotations, counted)
        matched = pairs.count

        let wbc = annotations.indices.filter { annotations[$0].kind == .leukocyte && interior(annotations[$0]) }
        leukocytesAnnotated = wbc.count
        considered = Set(cells + wbc)
        annotatedParasitized = cells.filter { annotations[$0].kind == .parasitized }.count
        if !calls.isEmpty {
            classified = true
            calledParasitized = counted.filter { calls[$0.id]?.parasitized == true }.count
            for pair in pairs {
                guard let call = calls[pair.detection] else { continue }
                switch (annotations[pair.annotation].kind, call.parasitized) {
                case (.parasitized, true): truePositives += 1
                case (.parasitized, false): falseNegatives += 1
                case (.uninfected, false): trueNegatives += 1
                case (.uninfected, true): falsePositives += 1
                default: break
                }
            }
        }
        leukocytesIdentified = Self.match(wbc, annotations, leukocytes).count
        leukocytesExcluded = wbc.filter { i in
            let a = annotations[i]
            return !counted.contains { d in
                if let w = a.width, let h = a.height {
                    return abs(d.centroidX - (a.x + w / 2)) < w / 4 && abs(d.centroidY - (a.y + h / 2)) < h / 4
                }
                let dx = d.centroidX - a.x, dy = d.centroidY - a.y
                return dx * dx + dy * dy < radius * radius / 4
            }
        }.count
    }

    /// One-to-one matching, best pairs first (highest IoU for boxes, nearest for points).
    static func match(_ indices: [Int], _ annotations: [Annotation], _ detections: [DetectedObject]) -> [MatchedPair] {
        var candidates: [(score: Double, annotation: Int, detection: Int)] = []
        for i in indices {
            let a = annotations[i]
            for d in detections {
                if let w = a.width, let h = a.height {
                    let iou = boxIoU(a.x, a.y, w, h, Double(d.x), Double(d.y), Double(d.width), Double(d.height))
                    if iou >= 0.3 { candidates.append((iou, i, d.id)) }
                } else if d.contains(x: Int(a.x), y: Int(a.y)) {
                    let dx = d.centroidX - a.x, dy = d.centroidY - a.y
                    candidates.append((-(dx * dx + dy * dy), i, d.id))
                }
            }
        }
        candidates.sort { ($0.score, $1.annotation, $1.detection) > ($1.score, $0.annotation, $0.detection) }
        var usedA = Set<Int>(), usedD = Set<Int>()
        var pairs: [MatchedPair] = []
        for c in candidates where !usedA.contains(c.annotation) && !usedD.contains(c.detection) {
            usedA.insert(c.annotation); usedD.insert(c.detection)
            pairs.append(MatchedPair(annotation: c.annotation, detection: c.detection))
        }
        return pairs.sorted { $0.annotation < $1.annotation }
    }
}

/// An annotation (index into the field's annotation list) matched with a detection (its id).
public struct MatchedPair: Sendable, Equatable {
    public var annotation: Int
    public var detection: Int
}

/// Intersection over union of two axis-aligned boxes given as (x, y, width, height).
public func boxIoU(_ ax: Double, _ ay: Double, _ aw: Double, _ ah: Double,
                   _ bx: Double, _ by: Double, _ bw: Double, _ bh: Double) -> Double {
    let iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    let ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    let intersection = iw * ih
    let union = aw * ah + bw * bh - intersection
    return union > 0 ? intersection / union : 0
}
