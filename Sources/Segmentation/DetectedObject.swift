/// Why an object is or is not part of the red-cell count.
public enum ObjectStatus: String, Sendable, CaseIterable, Codable {
    /// A whole red blood cell inside the field: counted.
    case counted
    /// Cut by the image border: shown, not counted (the WHO convention for counting fields).
    case border
    /// A white blood cell (large, with a dark purple nucleus): shown, not counted.
    case leukocyte
    /// Too small or too thin for a red cell (platelets, stain debris, fragments): shown, not counted.
    case debris
}

/// One object found in a field, in the input image's pixel coordinates.
public struct DetectedObject: Sendable, Equatable {
    /// 1-based, unique within the field, in reading order (top to bottom, then left to right).
    public var id: Int
    /// Bounding box: top-left corner and size, in pixels of the input image.
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int
    /// Centre of mass of the mask, in pixels of the input image.
    public var centroidX: Double
    public var centroidY: Double
    /// Number of mask pixels.
    public var area: Int
    public var status: ObjectStatus
    /// The object's pixels within its bounding box (`width × height`).
    public var mask: BinaryImage

    public init(id: Int, x: Int, y: Int, mask: BinaryImage, status: ObjectStatus) {
        self.id = id
        self.x = x
        self.y = y
        self.width = mask.width
        self.height = mask.height
        self.mask = mask
        self.status = status
        var sx = 0.0, sy = 0.0, n = 0
        for my in 0..<mask.height {
            for mx in 0..<mask.width where mask.bits[my * mask.width + mx] != 0 {
                sx += Double(mx); sy += Double(my); n += 1
            }
        }
        self.area = n
        self.centroidX = n > 0 ? Double(x) + sx / Double(n) : Double(x) + Double(mask.width) / 2
        self.centroidY = n > 0 ? Double(y) + sy / Double(n) : Double(y) + Double(mask.height) / 2
    }

    /// Whether pixel (px, py) of the input image belongs to the object.
    public func contains(x px: Int, y py: Int) -> Bool {
        let mx = px - x, my = py - y
        guard mx >= 0, my >= 0, mx < width, my < height else { return false }
        return mask.bits[my * width + mx] != 0
    }
}

/// Everything the segmenter found in one field.
public struct SegmentationResult: Sendable {
    public var width: Int
    public var height: Int
    public var objects: [DetectedObject]
    /// Typical red-cell diameter in input pixels: the one given, or the one estimated from the image.
    public var cellDiameter: Double
    /// Whether `cellDiameter` was estimated from the image (rather than set by the caller).
    public var diameterEstimated: Bool
    /// The integer factor the field was shrunk by for segmentation (1 = full resolution).
    public var workingScale: Int
    /// Lines along which the image was stitched from several fields; objects they cut are `border`.
    public var seams: Seams

    public init(width: Int, height: Int, objects: [DetectedObject], cellDiameter: Double, diameterEstimated: Bool,
                workingScale: Int, seams: Seams = Seams(columns: [], rows: [])) {
        self.width = width
        self.height = height
        self.objects = objects
        self.cellDiameter = cellDiameter
        self.diameterEstimated = diameterEstimated
        self.workingScale = workingScale
        self.seams = seams
    }

    /// Number of objects with each status.
    public func count(_ status: ObjectStatus) -> Int { objects.reduce(0) { $0 + ($1.status == status ? 1 : 0) } }
}
