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
    /// Objects smaller than this fraction of a typical cell's area are debris.
    public var minCellArea: Double
    /// Green absorbance (0–1, `Absorbance`) above which a pixel is foreground (a cell); `nil` = Otsu's
    /// threshold of each image (`foregroundThreshold(of:diameter:)`). A slide's tiles share one.
    public var foregroundThreshold: Double?

    public init(cellDiameter: Double? = nil, workingDiameter: Double = 16, minCentreScore: Double = 0.05,
                minCentreSeparation: Double = 0.75, minCellArea: Double = 0.3, splitDepth: Double = 0.12,
                foregroundThreshold: Double? = nil) {
        self.minCellArea = minCellArea
        self.foregroundThreshold = foregroundThreshold
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
/// 2. Otsu threshold (or the one given: `foregroundThreshold`), hole filling (central pallor), opening;
/// 3. circle voting (`findCircleCentres`): one marker per cell centre in the foreground; a strongly
///    voted centre outside it adds a pale or ring-shaped cell to the foreground;
/// 4. in foreground components that no centre explains, Euclidean distance transform and one marker
///    per extended maximum deeper than `splitDepth · r`;
/// 5. marker-controlled watershed to split touching cells; fragments and cells cut in two merged back
///    (`mergeFragments`, `mergeSplitCells`); crescents (cells whose pallor opens to the background)
///    completed to their convex hull, and pieces lying inside one cell merged into it
///    (`fillOpenPallors`, `mergeEnclosed`);
/// 6. debris: objects far smaller or thinner than a cell; border: objects touching the image edge;
/// 7. leukocytes: large blobs of high red-channel absorbance (nuclei) and the objects around them;
/// 8. masks mapped back to full resolution; objects cut by a stitching seam (`Seams`) are border too,
///    and an image stitched from fields is segmented field by field (`segmentFields`).
///
/// Cost: about ten passes over the field at the working scale (shrunk by the integer factor
/// ⌊diameter / 16⌋: a 1280×960 field whose cells are ~60 px across is segmented at about 430×320).
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
        var preview: (factor: Int, absorbance: Absorbance)?
        if let given = parameters.cellDiameter {
            diameter = given
        } else {
            guard let estimate = Self.estimateDiameter(image) else {
                throw SegmentationError(description: "no red blood cells found (is this a thin blood smear field?)")
            }
            (diameter, preview) = estimate
        }
        guard diameter >= 4, diameter <= Double(min(image.width, image.height)) / 1.5 else {
            throw SegmentationError(description: "implausible cell size (\(Int(diameter)) px across): is this a thin blood smear field?")
        }
        let seams = Seams(in: image)
        var result = segmentFields(image, diameter: diameter, between: seams) ?? segmentField(image, diameter: diameter, reusing: preview)
        result.seams = seams
        for i in result.objects.indices where result.objects[i].status != .leukocyte && seams.cut(result.objects[i], reach: result.workingScale) {
            result.objects[i].status = .border
        }
        return result
    }

    /// Segments `image` as one field (steps 1–8 but the seams), whose cells are `diameter` px across.
    func segmentField(_ image: RGBImage, diameter: Double, reusing preview: (factor: Int, absorbance: Absorbance)? = nil) -> SegmentationResult {
        let (factor, absorbance) = workingAbsorbance(image, diameter: diameter, reusing: preview)
        let working = segmentAtWorkingScale(absorbance, diameter: diameter / Double(factor))
        let objects = working.objects(factor: factor, fullWidth: image.width, fullHeight: image.height, diameter: diameter)
        return SegmentationResult(width: image.width, height: image.height, objects: objects,
                                  cellDiameter: diameter, diameterEstimated: parameters.cellDiameter == nil,
                                  workingScale: factor, seams: Seams(columns: [], rows: []), outlineContrast: working.outline.contrast,
                                  backgroundTexture: working.outline.backgroundTexture,
                                  stain: working.stain, glass: absorbance.glass)
    }

    /// A mosaic of fields (`seams` not empty) segmented field by field: each rectangle between the
    /// seams at least 1.5 diameters across is segmented on its own (`segmentField`: its own background,
    /// glass and stain levels and leukocyte references, as the field was alone; the foreground threshold
    /// too unless one is given), so a strip of a field stained or lit otherwise than its neighbours is
    /// not judged by their statistics. Cells cut by a seam touch their rectangle's edge and are border
    /// cells, as in the field alone. The objects are numbered in reading order across the image; the
    /// image's measures (outline contrast, texture, stain, glass) are those of the rectangle with the
    /// most counted cells. Nil without seams, or when no rectangle is large enough.
    /// Cost: that of segmenting the rectangles, about that of the whole image.
    func segmentFields(_ image: RGBImage, diameter: Double, between seams: Seams) -> SegmentationResult? {
        guard !seams.isEmpty else { return nil }
        let minSide = max(16, Int((1.5 * diameter).rounded(.up)))
        let xs = [0] + seams.columns + [image.width], ys = [0] + seams.rows + [image.height]
        var objects: [DetectedObject] = []
        var measured: SegmentationResult?
        var alone = self
        alone.parameters.foregroundThreshold = nil
        for (y0, y1) in zip(ys, ys.dropFirst()) where y1 - y0 >= minSide {
            for (x0, x1) in zip(xs, xs.dropFirst()) where x1 - x0 >= minSide {
                let part = alone.segmentField(image.region(x: x0, y: y0, width: x1 - x0, height: y1 - y0), diameter: diameter)
                objects += part.objects.map { DetectedObject(id: 0, x: $0.x + x0, y: $0.y + y0, mask: $0.mask, status: $0.status) }
                if measured.map({ $0.count(.counted) < part.count(.counted) }) ?? true { measured = part }
            }
        }
        guard var result = measured else { return nil }
        let band = max(1, diameter)
        objects.sort { a, b in
            let ba = Int(a.centroidY / band), bb = Int(b.centroidY / band)
            return ba != bb ? ba < bb : a.centroidX < b.centroidX
        }
        for i in objects.indices { objects[i].id = i + 1 }
        result.width = image.width
        result.height = image.height
        result.objects = objects
        return result
    }

    /// The working scale of `image` (the integer factor it is shrunk by, so that a cell `diameter` px
    /// across becomes about `workingDiameter`) and its absorbance there; `preview` (from the diameter
    /// estimate) is reused when it has the same scale and background blocks. Cost: a shrink and three
    /// passes at the working scale, or nothing when reused.
    func workingAbsorbance(_ image: RGBImage, diameter: Double, reusing preview: (factor: Int, absorbance: Absorbance)? = nil) -> (factor: Int, absorbance: Absorbance) {
        let factor = workingFactor(diameter: diameter)
        let workingDiameter = diameter / Double(factor)
        let block = Absorbance.blockSide(width: (image.width + factor - 1) / factor, height: (image.height + factor - 1) / factor,
                                         cellDiameter: workingDiameter)
        if let preview, preview.factor == factor, preview.absorbance.block == block { return preview }
        return (factor, Absorbance(image.boxDownscaled(by: factor), cellDiameter: workingDiameter))
    }

    /// The integer factor an image whose cells are `diameter` px across is shrunk by before
    /// segmenting: ⌊diameter / workingDiameter⌋, at least 1.
    public func workingFactor(diameter: Double) -> Int {
        max(1, Int(diameter / parameters.workingDiameter))
    }

    /// The foreground threshold this segmenter would choose on its own for `image` whose cells are
    /// `diameter` px across: Otsu's threshold of the green absorbance at the working scale, at least
    /// 0.04. A slide takes the median over regions sampled across it (`SlidePlan`), so that all its
    /// tiles split cells from glass at the same level. Cost: a shrink and four passes at the working scale.
    public func foregroundThreshold(of image: RGBImage, diameter: Double) -> Double {
        Self.otsuForeground(workingAbsorbance(image, diameter: diameter).absorbance.green)
    }

    static func otsuForeground(_ green: Plane) -> Double {
        max(0.04, Double(green.values.withUnsafeBufferPointer { otsuThreshold($0, lower: -0.1, upper: 1) }))
    }

    /// Longest side up to which a field's cell size is estimated on the whole field at once.
    static let wholeFieldSide = 2000

    /// The typical cell diameter of `image` in its own pixels, with the shrunk absorbance it was
    /// estimated on when that covers the whole image (to be reused for segmentation); nil when no
    /// cell outlines pair up.
    ///
    /// A field up to `wholeFieldSide` px across is shrunk by an integer factor to about 320 px across
    /// (cells of about 6 to 400 px at 1280×960). A larger frame (a mosaic of fields, a camera frame
    /// with many small cells) would shrink its cells to a few pixels, so it is estimated on a 3×3
    /// grid of regions 1,280 px across, each shrunk 4×, taking the median; when that gives cells
    /// under 24 px, again on regions 320 px across at full resolution. Cost: one shrunk pass over
    /// the image, or nine over regions of a fixed size.
    static func estimateDiameter(_ image: RGBImage) -> (Double, (factor: Int, absorbance: Absorbance)?)? {
        let longest = max(image.width, image.height)
        if longest <= wholeFieldSide {
            let factor = max(1, Int((Double(longest) / 320).rounded()))
            let absorbance = Absorbance(image.boxDownscaled(by: factor))
            return estimateCellDiameter(absorbance: absorbance.green).map { ($0 * Double(factor), (factor, absorbance)) }
        }
        guard let coarse = medianRegionDiameter(image, side: 1280, factor: 4) else { return nil }
        if coarse >= 24 { return (coarse, nil) }
        return medianRegionDiameter(image, side: 320, factor: 1).map { ($0, nil) }
    }

    /// The median of the diameters estimated on a 3×3 grid of square regions `side` px across
    /// (clipped to the image), each shrunk by `factor`; nil when fewer than half give one.
    static func medianRegionDiameter(_ image: RGBImage, side: Int, factor: Int) -> Double? {
        let w = min(side, image.width), h = min(side, image.height)
        var estimates: [Double] = []
        for row in 0..<3 {
            for column in 0..<3 {
                let x = (image.width - w) * column / 2, y = (image.height - h) * row / 2
                let region = image.region(x: x, y: y, width: w, height: h).boxDownscaled(by: factor)
                if let d = estimateCellDiameter(absorbance: Absorbance(region).green) { estimates.append(d * Double(factor)) }
            }
        }
        guard estimates.count >= 5 else { return nil }
        return estimates.sorted()[estimates.count / 2]
    }

    /// Labels at the working scale, with a status per label.
    struct WorkingLabels {
        var labels: LabelImage
        var status: [ObjectStatus]   // indexed by label; [0] unused
        /// `RegionProperties` of `labels`, with the red, green and blue absorbance as planes 0, 1, 2.
        var regions: RegionProperties
        /// `outlineMeasures` of the counted objects.
        var outline: (contrast: Double?, backgroundTexture: Double?)
        /// `stainRatios` of the counted objects (nil without any).
        var stain: StainRatios?

        /// Maps labels back to the input resolution as `DetectedObject`s, ids in reading order.
        func objects(factor: Int, fullWidth: Int, fullHeight: Int, diameter: Double) -> [DetectedObject] {
            let w = labels.width, h = labels.height
            // Working-grid coordinates of each full-resolution column and row: the cell to the
            // upper left and the interpolation weight.
            func grid(_ n: Int) -> ([Int], [Float]) {
                var cell = [Int](repeating: 0, count: n), weight = [Float](repeating: 0, count: n)
                for i in 0..<n {
                    let v = (Float(i) + 0.5) / Float(factor) - 0.5
                    cell[i] = Int(v + 1) - 1
                    weight[i] = v - Float(cell[i])
                }
                return (cell, weight)
            }
            let (col0, colT) = grid(fullWidth), (row0, rowT) = grid(fullHeight)
            // Full-resolution columns between the same two working columns form runs: runEnd[fx] is
            // the first column after fx's run.
            var runEnd = [Int](repeating: fullWidth, count: fullWidth)
            for fx in stride(from: fullWidth - 2, through: 0, by: -1) { runEnd[fx] = col0[fx + 1] != col0[fx] ? fx + 1 : runEnd[fx + 1] }
            var result: [DetectedObject] = []
            for l in 1..<(labels.count + 1) where regions[l].area > 0 {
                let box = regions[l]
                let fx0 = box.x0 * factor, fy0 = box.y0 * factor
                let fx1 = min(fullWidth, (box.x1 + 1) * factor), fy1 = min(fullHeight, (box.y1 + 1) * factor)
                // Each full-resolution pixel takes the bilinearly interpolated membership of the
                // working pixels around it (≥ ½ is in), so outlines are smooth rather than blocky.
                // Along a run the four working pixels are the same: all in the object (the run is in),
                // none (out), or mixed, the only case that needs the interpolation.
                let mw = fx1 - fx0
                var mask = BinaryImage(width: mw, height: fy1 - fy0)
                let label = Int32(l)
                var mx0 = Int.max, my0 = Int.max, mx1 = -1, my1 = -1
                labels.labels.withUnsafeBufferPointer { lab in
                mask.bits.withUnsafeMutableBufferPointer { bits in
                    for fy in fy0..<fy1 {
                        let iy = row0[fy], ty = rowT[fy]
                        let r0 = min(h - 1, max(0, iy)) * w, r1 = min(h - 1, max(0, iy + 1)) * w
                        let row = (fy - fy0) * mw - fx0
                        var fx = fx0
                        while fx < fx1 {
                            let end = min(runEnd[fx], fx1), ix = col0[fx]
                            let c0 = min(w - 1, max(0, ix)), c1 = min(w - 1, max(0, ix + 1))
                            let inA = lab[r0 + c0] == label, inB = lab[r0 + c1] == label
                            let inC = lab[r1 + c0] == label, inD = lab[r1 + c1] == label
                            if inA && inB && inC && inD {
                                for x in fx..<end { bits[row + x] = 1 }
                                mx0 = min(mx0, fx); mx1 = max(mx1, end - 1); my0 = min(my0, fy); my1 = max(my1, fy)
                            } else if inA || inB || inC || inD {
                                let a: Float = inA ? 1 : 0, b: Float = inB ? 1 : 0, c: Float = inC ? 1 : 0, d: Float = inD ? 1 : 0
                                for x in fx..<end {
                                    let tx = colT[x]
                                    let value = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty
                                    if value >= 0.5 {
                                        bits[row + x] = 1
                                        mx0 = min(mx0, x); mx1 = max(mx1, x); my0 = min(my0, fy); my1 = max(my1, fy)
                                    }
                                }
                            }
                            fx = end
                        }
                    }
                }}
                guard mx1 >= 0 else { continue }
                // Tighten the box to the smoothed mask.
                var tight = BinaryImage(width: mx1 - mx0 + 1, height: my1 - my0 + 1)
                let tw = tight.width
                mask.bits.withUnsafeBufferPointer { source in
                    tight.bits.withUnsafeMutableBufferPointer { target in
                        for y in my0...my1 {
                            let from = (y - fy0) * mw + (mx0 - fx0), to = (y - my0) * tw
                            for i in 0..<tw { target[to + i] = source[from + i] }
                        }
                    }
                }
                result.append(DetectedObject(id: 0, x: mx0, y: my0, mask: tight, status: status[l]))
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
        let green = absorbance.green
        let w = green.width, h = green.height, n = w * h
        let r = diameter / 2
        let cellArea = Double.pi * r * r

        // Foreground: Otsu on green absorbance, pallor holes filled, thin bridges and specks opened
        // away. Pale cells below the threshold are added where a circle centre vouches for them.
        let threshold = Float(parameters.foregroundThreshold ?? Self.otsuForeground(green))
        var mask = BinaryImage(width: w, height: h, bits: green.values.map { $0 > threshold ? 1 : 0 })
        mask = fillHoles(mask, maxArea: Int(2 * cellArea))
        let centres = findCircleCentres(absorbance: absorbance.green, diameter: diameter,
                                        minScore: Float(parameters.minCentreScore),
                                        minSeparation: parameters.minCentreSeparation)
        let paleLevel = max(0.03, 0.5 * threshold)
        var seeds: [(x: Int, y: Int)] = []
        for c in centres where mask.bits[c.y * w + c.x] != 0 { seeds.append((c.x, c.y)) }
        let filled = mask
        let foregroundSeeds = seeds
        for c in centres where filled.bits[c.y * w + c.x] == 0 && Double(c.score) >= 2 * parameters.minCentreScore {
            // Not a gap amid cells that have centres of their own.
            let isolated = foregroundSeeds.allSatisfy { s in
                Double((s.x - c.x) * (s.x - c.x) + (s.y - c.y) * (s.y - c.y)) >= 0.5625 * diameter * diameter
            }
            guard isolated else { continue }
            // A centre outside the foreground (with twice the usual vote, as there is no stain to
            // vouch for it) is a pale cell when the stain within 0.3 diameters
            // reaches half the threshold on half the pixels (its pale pixels join the foreground),
            // or a ring-shaped cell with an open pallor when at least half of the annulus 0.3–0.5
            // diameters out is foreground (its whole disc joins).
            var pale = 0, inside = 0, ring = 0, annulus = 0
            forEachPixel(inDiscAt: c.x, c.y, radius: 0.5 * diameter, width: w, height: h) { i, d2 in
                if d2 <= 0.09 * diameter * diameter {
                    inside += 1
                    if green.values[i] > paleLevel { pale += 1 }
                } else {
                    annulus += 1
                    if filled.bits[i] != 0 { ring += 1 }
                }
            }
            if 2 * pale >= inside {
                forEachPixel(inDiscAt: c.x, c.y, radius: 0.5 * diameter, width: w, height: h) { i, _ in
                    if green.values[i] > paleLevel { mask.bits[i] = 1 }
                }
            } else if 2 * ring >= annulus {
                forEachPixel(inDiscAt: c.x, c.y, radius: 0.45 * diameter, width: w, height: h) { i, _ in mask.bits[i] = 1 }
            } else {
                continue
            }
            seeds.append((c.x, c.y))
        }
        mask = fillHoles(mask, maxArea: Int(2 * cellArea))
        mask = open(mask, radius: Float(max(1, 0.12 * r)))
        seeds = seeds.filter { mask.bits[$0.y * w + $0.x] != 0 }

        // Markers for foreground components no circle explains (odd-shaped cells): the maxima of
        // their distance map, computed within each such component's bounding box.
        let components = connectedComponents(mask)
        let componentRegions = RegionProperties(components)
        var explained = [Bool](repeating: false, count: components.count + 1)
        for s in seeds { explained[Int(components.labels[s.y * w + s.x])] = true }
        for l in 1..<(components.count + 1) where !explained[l] && Double(componentRegions[l].area) >= parameters.minCellArea * cellArea {
            let box = componentRegions[l]
            let bw = box.width, bh = box.height
            let squared = squaredDistanceTransform(width: bw, height: bh) {
                components.labels[(box.y0 + $0 / bw) * w + box.x0 + $0 % bw] != Int32(l)
            }
            let distance = Plane(width: bw, height: bh, values: squared.values.map { $0.squareRoot() })
            let maxima = extendedMaxima(distance, h: Float(max(0.7, parameters.splitDepth * r)), floor: Float(0.3 * r))
            var peak = [(x: Int, y: Int, value: Float)](repeating: (0, 0, -1), count: maxima.count + 1)
            for i in 0..<(bw * bh) where maxima.labels[i] != 0 && distance.values[i] > peak[Int(maxima.labels[i])].value {
                peak[Int(maxima.labels[i])] = (box.x0 + i % bw, box.y0 + i / bw, distance.values[i])
            }
            seeds += peak.dropFirst().filter { $0.value >= 0 }.map { (x: $0.x, y: $0.y) }
        }
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
        labels = mergeFragments(labels, minArea: 0.5 * cellArea, minThickness: 0.35 * r, firstMergeable: seeds.count + 1)
        labels = mergeSplitCells(labels, minContact: 0.2 * diameter)
        labels = fillOpenPallors(labels, maxSolidity: 0.8, minHullArea: 0.5 * cellArea, maxHullArea: 1.6 * cellArea,
                                 maxAbsorbedArea: parameters.minCellArea * cellArea)
        labels = mergeEnclosed(labels, maxArea: 0.5 * cellArea)

        // Statuses. Debris: smaller than `minCellArea` cell, or thinner than 0.35 radius (thickness
        // 2·area/perimeter is the radius for a disc, the width for a strip: fibres, scale bars).
        let regions = RegionProperties(labels)
        var status = [ObjectStatus](repeating: .counted, count: labels.count + 1)
        for l in 1..<(labels.count + 1) {
            let thickness = 2 * Double(regions[l].area) / Double(max(1, regions[l].boundaryPixels))
            if Double(regions[l].area) < parameters.minCellArea * cellArea || thickness < 0.35 * r { status[l] = .debris }
            if regions[l].touchesBorder { status[l] = .border }
        }
        markLeukocytes(&labels, &status, objects: regions, absorbance: absorbance, mask: mask, radius: r)
        let final = RegionProperties(labels, intensity: [absorbance.red, absorbance.green, absorbance.blue])
        return WorkingLabels(labels: labels, status: status, regions: final,
                             outline: outlineMeasures(labels, status: status, absorbance: absorbance.green),
                             stain: stainRatios(final, status: status))
    }

    /// Marks as leukocytes the objects around nuclei: connected blobs of pixels whose red-channel
    /// absorbance is 0.1 above the foreground's median (red cells absorb little red light, nuclei
    /// much) and whose blue/green absorbance ratio is 0.08 below its median (nuclei are bluer than
    /// even the darkest red cells), at least a quarter of a cell in area after an opening that
    /// removes parasite-sized specks (lobes less than a diameter apart counting as one nucleus).
    /// Objects centred within 0.8 diameters of a nucleus, lying mostly within 0.35 diameters of it,
    /// or holding 30% of it become one leukocyte object (also when it touches the border: a
    /// leukocyte is never counted, and naming it is more useful). `objects` are the
    /// `RegionProperties` of `labels`.
    func markLeukocytes(_ labels: inout LabelImage, _ status: inout [ObjectStatus], objects: RegionProperties,
                        absorbance: Absorbance, mask: BinaryImage, radius r: Double) {
        let w = labels.width, h = labels.height, n = w * h
        let red = absorbance.red, green = absorbance.green, blue = absorbance.blue
        // Hue: blue absorbance relative to green, low for blue-purple nuclei.
        @inline(__always) func hue(_ i: Int) -> Float { blue.values[i] / max(0.05, green.values[i]) }
        var redHistogram = Histogram(lower: -0.5, upper: 1.5), hueHistogram = Histogram(lower: -2, upper: 3)
        for i in 0..<n where mask.bits[i] != 0 { redHistogram.add(red.values[i]); hueHistogram.add(hue(i)) }
        guard redHistogram.count > 16 else { return }
        let redLevel = redHistogram.quantile(0.5) + 0.1
        let hueLevel = hueHistogram.quantile(0.5) - 0.08
        var nucleus = BinaryImage(width: w, height: h)
        var any = false
        for i in 0..<n where red.values[i] > redLevel && hue(i) < hueLevel { nucleus.bits[i] = 1; any = true }
        guard any else { return }
        nucleus = open(nucleus, radius: Float(max(1, 0.1 * r)))
        let blobs = connectedComponents(nucleus)
        guard blobs.count > 0 else { return }
        // Blobs whose centres are less than a diameter apart are lobes of one nucleus.
        let blobRegions = RegionProperties(blobs)
        var lobes = DisjointSets(count: blobs.count + 1)
        let diameter = 2 * r
        for a in 1...blobs.count where blobRegions[a].area > 0 {
            for b in (a + 1)..<(blobs.count + 1) where blobRegions[b].area > 0 {
                let dx = blobRegions[a].centroidX - blobRegions[b].centroidX
                let dy = blobRegions[a].centroidY - blobRegions[b].centroidY
                if dx * dx + dy * dy < diameter * diameter { lobes.union(a, b) }
            }
        }
        // Each blob pixel labelled by its group of lobes (the group's smallest blob label).
        var groups = blobs
        for i in 0..<n where groups.labels[i] != 0 { groups.labels[i] = Int32(lobes.find(Int(groups.labels[i]))) }
        let groupRegions = RegionProperties(groups)
        // Nuclei: groups with at least a quarter of a red cell's area of nucleus pixels.
        let cellArea = Double.pi * r * r
        let nuclei = (1...blobs.count).filter { Double(groupRegions[$0].area) >= cellArea / 4 }
        guard !nuclei.isEmpty else { return }
        // An object joins a nucleus's leukocyte when its centre lies within 0.8 diameters of the
        // nucleus's centre, when 40% of it lies within 0.35 diameters of the nucleus's pixels (lobes
        // and cytoplasm; a red cell beside the leukocyte is centred further out and only touches
        // that zone), or when it holds 30% of the nucleus's pixels.
        var isNucleus = [Bool](repeating: false, count: blobs.count + 1)
        for g in nuclei { isNucleus[g] = true }
        var nucleusLabels = groups
        for i in 0..<n where !isNucleus[Int(nucleusLabels.labels[i])] { nucleusLabels.labels[i] = 0 }
        let toNucleus = squaredDistanceTransform(width: w, height: h) { nucleusLabels.labels[$0] != 0 }
        let reach = Float(0.49 * diameter * diameter / 4)
        let zones = watershed(elevation: toNucleus, markers: nucleusLabels,
                              mask: BinaryImage(width: w, height: h, bits: toNucleus.values.map { $0 <= reach ? 1 : 0 }))
        var onNucleus: [Int: Double] = [:], inZone: [Int: Double] = [:]   // key: label · (blobs + 1) + group
        for i in 0..<n {
            let l = Int(labels.labels[i])
            guard l != 0 else { continue }
            if nucleusLabels.labels[i] != 0 { onNucleus[l * (blobs.count + 1) + Int(nucleusLabels.labels[i]), default: 0] += 1 }
            if zones.labels[i] != 0 { inZone[l * (blobs.count + 1) + Int(zones.labels[i]), default: 0] += 1 }
        }
        var owner = [Int](repeating: 0, count: labels.count + 1)   // the nucleus group an object joins
        for l in 1..<(labels.count + 1) where objects[l].area > 0 {
            for g in nuclei {
                let dx = objects[l].centroidX - groupRegions[g].centroidX, dy = objects[l].centroidY - groupRegions[g].centroidY
                let key = l * (blobs.count + 1) + g
                if dx * dx + dy * dy < 0.64 * diameter * diameter || (inZone[key] ?? 0) >= 0.4 * Double(objects[l].area)
                    || (onNucleus[key] ?? 0) >= 0.3 * Double(groupRegions[g].area) {
                    owner[l] = g
                    break
                }
            }
        }
        // One object per leukocyte: its first object's label, also given to the nucleus pixels.
        var first = [Int32](repeating: 0, count: blobs.count + 1)
        for l in 1..<(labels.count + 1) where owner[l] != 0 && first[owner[l]] == 0 {
            first[owner[l]] = Int32(l)
            status[l] = .leukocyte
        }
        for i in 0..<n {
            let l = Int(labels.labels[i])
            if l != 0 {
                if owner[l] != 0 { labels.labels[i] = first[owner[l]] }
            } else if groups.labels[i] != 0 {
                let g = Int(groups.labels[i])
                if first[g] != 0 { labels.labels[i] = first[g] }
            }
        }
    }
}

/// Calls `body(index, squaredDistance)` for every pixel of a `width × height` image within `radius`
/// of (cx, cy).
func forEachPixel(inDiscAt cx: Int, _ cy: Int, radius: Double, width: Int, height: Int, _ body: (Int, Double) -> Void) {
    let r = Int(radius), r2 = radius * radius
    for y in max(0, cy - r)...min(height - 1, cy + r) {
        for x in max(0, cx - r)...min(width - 1, cx + r) {
            let d2 = Double((x - cx) * (x - cx) + (y - cy) * (y - cy))
            if d2 <= r2 { body(y * width + x, d2) }
        }
    }
}

/// How sharply the counted objects stand out: for each counted object, the mean gradient magnitude
/// on its outline (its `Region.boundaryPixels`, taking the strongest magnitude within one pixel) over
/// the mean magnitude inside it (its other pixels), the median over objects (`contrast`); and the
/// mean magnitude over the background (label-0 pixels off the image edge whose 4-neighbours are all
/// label 0) over the mean on all counted outlines (`backgroundTexture`). A cell's outline is an edge
/// much stronger than its inside (contrast 2 and more) and than the glass around it (texture well
/// under 1); a region cut out of smooth shading has about the same gradient everywhere (contrast
/// near 1), and a photograph of a scene has texture between its objects. Cost: one gradient, one
/// pass and a `RegionProperties` of two planes.
func outlineMeasures(_ labels: LabelImage, status: [ObjectStatus], absorbance: Plane) -> (contrast: Double?, backgroundTexture: Double?) {
    let w = labels.width, h = labels.height
    let magnitude = Gradient(absorbance).magnitude.values
    // The counted objects' gradient in two planes, 0 elsewhere: on outline pixels the strongest
    // magnitude within one pixel, on the other pixels the magnitude.
    var onOutline = Plane(width: w, height: h), inside = Plane(width: w, height: h)
    var background = 0.0, backgroundCount = 0
    for y in 0..<h {
        for x in 0..<w {
            let i = y * w + x
            let l = labels.labels[i]
            let edge = x == 0 || y == 0 || x == w - 1 || y == h - 1
                || labels.labels[i - 1] != l || labels.labels[i + 1] != l || labels.labels[i - w] != l || labels.labels[i + w] != l
            if l == 0 {
                if !edge { background += Double(magnitude[i]); backgroundCount += 1 }
                continue
            }
            guard status[Int(l)] == .counted else { continue }
            if edge {
                var strongest: Float = 0
                for ny in max(0, y - 1)...min(h - 1, y + 1) {
                    for nx in max(0, x - 1)...min(w - 1, x + 1) { strongest = max(strongest, magnitude[ny * w + nx]) }
                }
                onOutline.values[i] = strongest
            } else {
                inside.values[i] = magnitude[i]
            }
        }
    }
    let regions = RegionProperties(labels, intensity: [onOutline, inside])
    var outline = 0.0, outlineCount = 0
    var ratios: [Double] = []
    for l in 1..<(labels.count + 1) where status[l] == .counted {
        let outlinePixels = regions[l].boundaryPixels, insidePixels = regions[l].area - outlinePixels
        outline += regions.intensitySum(l, plane: 0)
        outlineCount += outlinePixels
        if outlinePixels > 0 && insidePixels > 0 {
            ratios.append((regions.intensitySum(l, plane: 0) / Double(outlinePixels))
                          / max(1e-6, regions.intensitySum(l, plane: 1) / Double(insidePixels)))
        }
    }
    ratios.sort()
    let outlineMean = outline / Double(max(1, outlineCount))
    let texture = backgroundCount > 0 && outlineMean > 0 ? (background / Double(backgroundCount)) / outlineMean : nil
    return (ratios.isEmpty ? nil : ratios[ratios.count / 2], texture)
}

/// For each counted object, its mean red- and blue-channel absorbance over its mean green-channel
/// absorbance; the medians over objects. Giemsa-stained red cells absorb mostly green light (they
/// look pink): red/green is about 0.2–0.5. Black ink, grey photographs and other achromatic
/// objects absorb all channels alike (ratios near 1); other stains shift them. Objects whose mean
/// green absorbance is under 0.02 are left out (nothing to divide by). `regions`: of the objects'
/// labels, with the red, green and blue absorbance as planes 0, 1, 2. Cost: O(labels).
func stainRatios(_ regions: RegionProperties, status: [ObjectStatus]) -> StainRatios? {
    let objects = (1..<(regions.count + 1)).filter {
        status[$0] == .counted && regions[$0].area > 0 && regions.intensitySum($0, plane: 1) / Double(regions[$0].area) >= 0.02
    }
    guard !objects.isEmpty else { return nil }
    let redRatios = objects.map { regions.intensitySum($0, plane: 0) / regions.intensitySum($0, plane: 1) }.sorted()
    let blueRatios = objects.map { regions.intensitySum($0, plane: 2) / regions.intensitySum($0, plane: 1) }.sorted()
    return StainRatios(redToGreen: redRatios[redRatios.count / 2], blueToGreen: blueRatios[blueRatios.count / 2])
}
