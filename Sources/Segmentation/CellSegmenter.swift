import ImageCodecs

/// Settings of the red-cell segmenter. Everything that depends on magnification is derived from the
/// typical cell diameter, which is estimated from each image unless given.
public struct SegmentationParameters: Sendable, Equatable {
    /// Typical red-cell diameter in pixels of the input image; `nil` = estimate it from each image.
    public var cellDiameter: Double?
    /// Fields are shrunk (by an integer factor) until a cell is about this many pixels across before
    /// segmenting: larger is slower and finer. Masks are mapped back to full resolution.
    public var workingDiameter: Double
    /// Minimum circle-vote score (0–1, relative to a complete sharp outline) for a cell centre.
    public var minCentreScore: Double
    /// Minimum depth, as a fraction of the cell radius, of the dip in the distance map between two
    /// parts of a clump that no circle explains, for them to be split.
    public var splitDepth: Double

    /// Minimum distance between two cell centres, as a fraction of the diameter.
    public var minCentreSeparation: Double

    public init(cellDiameter: Double? = nil, workingDiameter: Double = 30, minCentreScore: Double = 0.05,
                minCentreSeparation: Double = 0.5, splitDepth: Double = 0.12) {
        self.cellDiameter = cellDiameter
        self.workingDiameter = workingDiameter
        self.minCentreScore = minCentreScore
        self.minCentreSeparation = minCentreSeparation
        self.splitDepth = splitDepth
    }
}

/// Why a field could not be segmented.
public struct SegmentationError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Finds red blood cells in a Giemsa-stained thin-smear field, classically and explainably:
///
/// 1. stain absorbance relative to the local background (`Absorbance`), green channel;
/// 2. Otsu threshold, hole filling (central pallor), opening;
/// 3. Euclidean distance transform; one marker per extended maximum deeper than `splitDepth · r`;
/// 4. marker-controlled watershed to split touching cells; fragments merged back;
/// 5. leukocytes: large blobs of high red-channel absorbance (nuclei) and the objects around them;
/// 6. debris: objects far smaller than a cell; border: objects touching the image edge.
///
/// Cost: about ten passes over the field at the working scale (a 1280×960 field is segmented at
/// 640×480 when its cells are ~60 px across).
public struct CellSegmenter: Sendable {
    public var parameters: SegmentationParameters

    public init(parameters: SegmentationParameters = SegmentationParameters()) {
        self.parameters = parameters
    }

    public func segment(_ image: RGBImage) throws(SegmentationError) -> SegmentationResult {
        guard image.width >= 16, image.height >= 16 else {
            throw SegmentationError(description: "image is too small to hold blood cells (\(image.width)×\(image.height))")
        }
        var diameter: Double
        var previewFactor = 0
        var preview: Absorbance?
        if let given = parameters.cellDiameter {
            diameter = given
        } else {
            previewFactor = max(1, Int((Double(max(image.width, image.height)) / 320).rounded()))
            let absorbance = Absorbance(image.boxDownscaled(by: previewFactor))
            guard let d = estimateCellDiameter(absorbance: absorbance.green) else {
                throw SegmentationError(description: "no red blood cells found (is this a thin blood smear field?)")
            }
            diameter = d * Double(previewFactor)
            preview = absorbance
        }
        guard diameter >= 4, diameter <= Double(min(image.width, image.height)) / 1.5 else {
            throw SegmentationError(description: "implausible cell size (\(Int(diameter)) px across): is this a thin blood smear field?")
        }
        let factor = max(1, Int(diameter / parameters.workingDiameter))
        let absorbance = (factor == previewFactor ? preview : nil) ?? Absorbance(image.boxDownscaled(by: factor))
        let working = segmentAtWorkingScale(absorbance, diameter: diameter / Double(factor))
        let objects = working.objects(factor: factor, fullWidth: image.width, fullHeight: image.height,
                                      diameter: diameter)
        return SegmentationResult(width: image.width, height: image.height, objects: objects,
                                  cellDiameter: diameter, diameterEstimated: parameters.cellDiameter == nil,
                                  workingScale: factor)
    }

    /// Labels at the working scale, with a status per label.
    struct WorkingLabels {
        var labels: LabelImage
        var status: [ObjectStatus]   // indexed by label; [0] unused

        /// Maps labels back to the input resolution as `DetectedObject`s, ids in reading order.
        func objects(factor: Int, fullWidth: Int, fullHeight: Int, diameter: Double) -> [DetectedObject] {
            let w = labels.width, h = labels.height
            var x0 = [Int](repeating: .max, count: labels.count + 1), y0 = x0
            var x1 = [Int](repeating: -1, count: labels.count + 1), y1 = x1
            for y in 0..<h {
                for x in 0..<w {
                    let l = Int(labels.labels[y * w + x])
                    guard l != 0 else { continue }
                    x0[l] = min(x0[l], x); x1[l] = max(x1[l], x)
                    y0[l] = min(y0[l], y); y1[l] = max(y1[l], y)
                }
            }
            var result: [DetectedObject] = []
            for l in 1...max(1, labels.count) where l <= labels.count && x1[l] >= 0 {
                let fx0 = x0[l] * factor, fy0 = y0[l] * factor
                let fx1 = min(fullWidth, (x1[l] + 1) * factor), fy1 = min(fullHeight, (y1[l] + 1) * factor)
                var mask = BinaryImage(width: fx1 - fx0, height: fy1 - fy0)
                for fy in fy0..<fy1 {
                    let row = (fy / factor) * w
                    for fx in fx0..<fx1 where labels.labels[row + fx / factor] == Int32(l) {
                        mask.bits[(fy - fy0) * mask.width + (fx - fx0)] = 1
                    }
                }
                result.append(DetectedObject(id: 0, x: fx0, y: fy0, mask: mask, status: status[l]))
            }
            let band = max(1, diameter)
            result.sort { a, b in
                let ba = Int(a.centroidY / band), bb = Int(b.centroidY / band)
                return ba != bb ? ba < bb : a.centroidX < b.centroidX
            }
            for i in result.indices { result[i].id = i + 1 }
            return result
        }
    }

    /// The segmentation proper, at a scale where a cell is `diameter` pixels across.
    func segmentAtWorkingScale(_ absorbance: Absorbance, diameter: Double) -> WorkingLabels {
        let green = boxBlur(absorbance.green, radius: 1)
        let w = green.width, h = green.height, n = w * h
        let r = diameter / 2
        let cellArea = Double.pi * r * r

        // Foreground: Otsu on green absorbance, pallor holes filled, thin bridges and specks opened
        // away. Pale cells below the threshold are added where a circle centre vouches for them.
        let threshold = max(0.04, green.values.withUnsafeBufferPointer { otsuThreshold($0, lower: -0.1, upper: 1) })
        var mask = BinaryImage(width: w, height: h, bits: green.values.map { $0 > threshold ? 1 : 0 })
        mask = fillHoles(mask, maxArea: Int(2 * cellArea))
        let centres = findCircleCentres(absorbance: absorbance.green, diameter: diameter,
                                        minScore: Float(parameters.minCentreScore),
                                        minSeparation: parameters.minCentreSeparation)
        let paleLevel = max(0.03, 0.5 * threshold)
        var seeds: [(x: Int, y: Int)] = []
        let inner = Int(0.3 * diameter), inner2 = inner * inner
        for c in centres where mask.bits[c.y * w + c.x] != 0 { seeds.append((c.x, c.y)) }
        for c in centres where mask.bits[c.y * w + c.x] == 0 {
            // A centre outside the foreground is a pale cell when the stain around it (within 0.3
            // diameters) reaches half the threshold on at least half the pixels; its pale pixels
            // within a radius join the foreground.
            var stained = 0, total = 0
            for y in max(0, c.y - inner)...min(h - 1, c.y + inner) {
                for x in max(0, c.x - inner)...min(w - 1, c.x + inner) where (x - c.x) * (x - c.x) + (y - c.y) * (y - c.y) <= inner2 {
                    total += 1
                    if green.values[y * w + x] > paleLevel { stained += 1 }
                }
            }
            guard 2 * stained >= total else { continue }
            seeds.append((c.x, c.y))
            let reach = Int(0.5 * diameter), reach2 = reach * reach
            for y in max(0, c.y - reach)...min(h - 1, c.y + reach) {
                for x in max(0, c.x - reach)...min(w - 1, c.x + reach)
                where (x - c.x) * (x - c.x) + (y - c.y) * (y - c.y) <= reach2 && green.values[y * w + x] > paleLevel {
                    mask.bits[y * w + x] = 1
                }
            }
        }
        mask = fillHoles(mask, maxArea: Int(2 * cellArea))
        mask = open(mask, radius: Float(max(1, 0.12 * r)))
        seeds = seeds.filter { mask.bits[$0.y * w + $0.x] != 0 }

        // Markers: the circle centres, and for foreground components no circle explains (odd-shaped
        // cells), the maxima of their distance map.
        let components = connectedComponents(mask)
        var explained = [Bool](repeating: false, count: components.count + 1)
        for s in seeds { explained[Int(components.labels[s.y * w + s.x])] = true }
        let squared = squaredDistanceTransform(width: w, height: h) {
            mask.bits[$0] == 0 || explained[Int(components.labels[$0])]
        }
        let distance = Plane(width: w, height: h, values: squared.values.map { $0.squareRoot() })
        let maxima = extendedMaxima(distance, h: Float(max(0.7, parameters.splitDepth * r)), floor: Float(0.3 * r))
        var peak = [(x: Int, y: Int, value: Float)](repeating: (0, 0, -1), count: maxima.count + 1)
        for i in 0..<n where maxima.labels[i] != 0 && distance.values[i] > peak[Int(maxima.labels[i])].value {
            peak[Int(maxima.labels[i])] = (i % w, i / w, distance.values[i])
        }
        seeds += peak.dropFirst().filter { $0.value >= 0 }.map { (x: $0.x, y: $0.y) }
        var markerBits = [Int32](repeating: 0, count: n)
        for (k, s) in seeds.enumerated() { markerBits[s.y * w + s.x] = Int32(k + 1) }
        let markers = LabelImage(width: w, height: h, labels: markerBits, count: seeds.count)

        // Flood from the markers over the distance to the nearest marker: each foreground pixel goes to
        // the nearest centre reachable through the foreground; pixels far beyond a cell radius stay out.
        let toSeed = squaredDistanceTransform(width: w, height: h) { markerBits[$0] != 0 }
        var labels = watershed(elevation: toSeed, markers: markers, mask: mask)
        let reach = Float(0.7 * diameter * 0.7 * diameter)
        for i in 0..<n where toSeed.values[i] > reach { labels.labels[i] = 0 }

        // Foreground no marker took (thin or tiny pieces, fringes) becomes objects of its own; small
        // ones are then merged into the neighbour they share most boundary with.
        var leftover = BinaryImage(width: w, height: h)
        for i in 0..<n where mask.bits[i] != 0 && labels.labels[i] == 0 { leftover.bits[i] = 1 }
        let pieces = connectedComponents(leftover)
        for i in 0..<n where pieces.labels[i] != 0 { labels.labels[i] = Int32(labels.count) + pieces.labels[i] }
        labels.count += pieces.count
        labels = mergeFragments(labels, minArea: 0.6 * cellArea, firstMergeable: seeds.count + 1)
        labels = mergeSplitCells(labels, minContact: 0.2 * diameter)

        // Statuses.
        var area = [Int](repeating: 0, count: labels.count + 1)
        var touchesBorder = [Bool](repeating: false, count: labels.count + 1)
        for y in 0..<h {
            for x in 0..<w {
                let l = Int(labels.labels[y * w + x])
                guard l != 0 else { continue }
                area[l] += 1
                if x == 0 || y == 0 || x == w - 1 || y == h - 1 { touchesBorder[l] = true }
            }
        }
        var status = [ObjectStatus](repeating: .counted, count: labels.count + 1)
        for l in 1..<(labels.count + 1) {
            if Double(area[l]) < 0.3 * cellArea { status[l] = .debris }
            if touchesBorder[l] { status[l] = .border }
        }
        markLeukocytes(&labels, &status, absorbance: absorbance, mask: mask, radius: r)
        return WorkingLabels(labels: labels, status: status)
    }

    /// Marks as leukocytes the objects around nuclei: connected blobs of red-channel absorbance 0.1
    /// above the median of the foreground (red cells absorb little red light, nuclei much), at least a
    /// quarter of a cell in area after an opening that removes parasite-sized specks. All objects a
    /// nucleus touches become one leukocyte object.
    func markLeukocytes(_ labels: inout LabelImage, _ status: inout [ObjectStatus], absorbance: Absorbance,
                        mask: BinaryImage, radius r: Double) {
        let w = labels.width, h = labels.height, n = w * h
        let red = boxBlur(absorbance.red, radius: 1)
        var inside: [Float] = []
        inside.reserveCapacity(n / 2)
        for i in 0..<n where mask.bits[i] != 0 { inside.append(red.values[i]) }
        guard inside.count > 16 else { return }
        inside.sort()
        let nucleusLevel = inside[inside.count / 2] + 0.1
        var nucleus = BinaryImage(width: w, height: h, bits: red.values.map { $0 > nucleusLevel ? 1 : 0 })
        nucleus = open(nucleus, radius: Float(max(1, 0.1 * r)))
        let blobs = connectedComponents(nucleus)
        guard blobs.count > 0 else { return }
        let cellArea = Double.pi * r * r
        var blobArea = [Int](repeating: 0, count: blobs.count + 1)
        for b in blobs.labels { blobArea[Int(b)] += 1 }
        // Overlap of each object with each large blob.
        var overlap: [Int: Int] = [:]   // key: label · (blobs + 1) + blob
        let stride = blobs.count + 1
        var objectArea = [Int](repeating: 0, count: labels.count + 1)
        for i in 0..<n {
            let l = Int(labels.labels[i])
            objectArea[l] += 1
            let b = Int(blobs.labels[i])
            if l != 0 && b != 0 && Double(blobArea[b]) >= cellArea / 4 { overlap[l * stride + b, default: 0] += 1 }
        }
        var leukocyteOfBlob = [Int32](repeating: 0, count: stride)
        var merge = Array(0...labels.count).map(Int32.init)
        for (key, count) in overlap.sorted(by: { $0.key < $1.key }) {
            let l = key / stride, b = key % stride
            guard Double(count) >= 0.2 * Double(objectArea[l]) || Double(count) >= 0.3 * Double(blobArea[b]) else { continue }
            if leukocyteOfBlob[b] == 0 { leukocyteOfBlob[b] = Int32(l) }
            merge[l] = leukocyteOfBlob[b]
            status[Int(leukocyteOfBlob[b])] = status[Int(leukocyteOfBlob[b])] == .border ? .border : .leukocyte
            if status[l] == .border { status[Int(leukocyteOfBlob[b])] = .border }
        }
        for i in 0..<n {
            let l = Int(labels.labels[i])
            if l != 0 { labels.labels[i] = merge[l] }
            else if blobs.labels[i] != 0 && leukocyteOfBlob[Int(blobs.labels[i])] != 0 {
                labels.labels[i] = leukocyteOfBlob[Int(blobs.labels[i])]
            }
        }
    }
}
