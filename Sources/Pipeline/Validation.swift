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
///
/// A slide is validated by the same rules, each piece applied where its data is (`SlideValidation`):
/// the static steps below (`isInterior`, `candidates`, `resolve`, `covers`) are shared.
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
        let counted = segmentation.objects.filter { $0.status == .counted }
        let leukocytes = segmentation.objects.filter { $0.status == .leukocyte }
        let radius = Self.typicalRadius(areas: counted.map(\.area), diameter: segmentation.cellDiameter)
        let frame = TileGrid.Rect(x: 0, y: 0, width: segmentation.width, height: segmentation.height)
        let cells = annotations.indices.filter { annotations[$0].isRedCell && Self.isInterior(annotations[$0], in: frame, radius: radius) }
        let wbc = annotations.indices.filter { annotations[$0].kind == .leukocyte && Self.isInterior(annotations[$0], in: frame, radius: radius) }
        self.init(image: image, annotations: annotations, cells: cells, leukocytes: wbc,
                  pairs: Self.resolve(Self.candidates(cells, annotations, counted)), counted: counted.map(\.id), calls: calls,
                  leukocytesIdentified: Self.resolve(Self.candidates(wbc, annotations, leukocytes)).count,
                  leukocytesExcluded: wbc.filter { i in
                      !counted.contains { Self.covers(annotations[i], x: $0.centroidX, y: $0.centroidY, radius: radius) }
                  }.count)
    }

    /// The figures from the rules' results: `cells` and `leukocytes`, the indices of the interior
    /// annotations of each kind; `pairs`, the matched red cells; `counted`, the ids of the counted
    /// detections and `calls` the classifier's calls on them (empty: no classifier).
    init(image: String, annotations: [Annotation], cells: [Int], leukocytes: [Int], pairs: [MatchedPair], counted: [Int],
         calls: [Int: CellCall], leukocytesIdentified: Int, leukocytesExcluded: Int) {
        self.image = image
        annotated = cells.count
        detected = counted.count
        self.pairs = pairs
        matched = pairs.count
        leukocytesAnnotated = leukocytes.count
        considered = Set(cells + leukocytes)
        annotatedParasitized = cells.filter { annotations[$0].kind == .parasitized }.count
        self.leukocytesIdentified = leukocytesIdentified
        self.leukocytesExcluded = leukocytesExcluded
        guard !calls.isEmpty else { return }
        classified = true
        calledParasitized = counted.filter { calls[$0]?.parasitized == true }.count
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

    /// The typical cell radius: the median equivalent radius (√(area/π)) of the counted cells, or half
    /// the estimated `diameter` without any (that diameter measures between edge centres and runs a
    /// little small).
    static func typicalRadius(areas: [Int], diameter: Double) -> Double {
        let sorted = areas.sorted()
        return sorted.isEmpty ? diameter / 2 : (Double(sorted[sorted.count / 2]) / .pi).squareRoot()
    }

    /// Whether annotation `a` lies inside `frame` without touching its edge: a box more than half a
    /// pixel from every edge, a point at least `radius` from every edge.
    static func isInterior(_ a: Annotation, in frame: TileGrid.Rect, radius: Double) -> Bool {
        let left = Double(frame.x), top = Double(frame.y)
        let right = left + Double(frame.width), bottom = top + Double(frame.height)
        if let w = a.width, let h = a.height {
            return a.x > left + 0.5 && a.y > top + 0.5 && a.x + w < right - 0.5 && a.y + h < bottom - 0.5
        }
        return a.x >= left + radius && a.y >= top + radius && a.x <= right - radius && a.y <= bottom - radius
    }

    /// Whether a counted detection with its centroid at (`x`, `y`) covers leukocyte annotation `a`, so
    /// that the leukocyte is not excluded from the count: the centroid in the middle half of the box,
    /// or within half of `radius` of the point.
    static func covers(_ a: Annotation, x: Double, y: Double, radius: Double) -> Bool {
        if let w = a.width, let h = a.height {
            return abs(x - (a.x + w / 2)) < w / 4 && abs(y - (a.y + h / 2)) < h / 4
        }
        let dx = x - a.x, dy = y - a.y
        return dx * dx + dy * dy < radius * radius / 4
    }

    /// Every pair the matching rules allow between the annotations at `indices` and `detections`, with
    /// its score (higher is better): a box and a detection whose box IoU is at least 0.3 (score: the
    /// IoU), a point and a detection whose mask contains it (score: minus the squared distance to the
    /// centroid). The detections' coordinates are relative to `origin` in the annotations' frame (a
    /// slide's tile read at `origin`; (0, 0) for a field). Cost: O(annotations × detections).
    static func candidates(_ indices: [Int], _ annotations: [Annotation], _ detections: [DetectedObject],
                           origin: (x: Int, y: Int) = (0, 0)) -> [MatchCandidate] {
        var candidates: [MatchCandidate] = []
        let ox = Double(origin.x), oy = Double(origin.y)
        for i in indices {
            let a = annotations[i]
            for d in detections {
                if let w = a.width, let h = a.height {
                    let iou = boxIoU(a.x, a.y, w, h, Double(d.x) + ox, Double(d.y) + oy, Double(d.width), Double(d.height))
                    if iou >= 0.3 { candidates.append(MatchCandidate(score: iou, annotation: i, detection: d.id)) }
                } else if d.contains(x: Int(a.x) - origin.x, y: Int(a.y) - origin.y) {
                    let dx = d.centroidX + ox - a.x, dy = d.centroidY + oy - a.y
                    candidates.append(MatchCandidate(score: -(dx * dx + dy * dy), annotation: i, detection: d.id))
                }
            }
        }
        return candidates
    }

    /// One-to-one matching: pairs taken best score first (ties: lower annotation index, then lower
    /// detection id), each annotation and detection used once. Sorted by annotation index.
    static func resolve(_ candidates: [MatchCandidate]) -> [MatchedPair] {
        let sorted = candidates.sorted { ($0.score, $1.annotation, $1.detection) > ($1.score, $0.annotation, $0.detection) }
        var usedA = Set<Int>(), usedD = Set<Int>()
        var pairs: [MatchedPair] = []
        for c in sorted where !usedA.contains(c.annotation) && !usedD.contains(c.detection) {
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
