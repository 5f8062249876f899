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
    /// Median over counted cells of the gradient on their outline over the gradient inside them: 2
    /// and more for real cell outlines, near 1 for regions cut out of smooth shading (nil without
    /// counted cells).
    public var outlineContrast: Double?
    /// Mean gradient on the glass between objects over that on the counted cells' outlines: well under
    /// 1 on a smear, higher on textured scenes (nil without counted cells).
    public var backgroundTexture: Double?
    /// Colour of the counted cells' stain (nil without counted cells).
    public var stain: StainRatios?
    /// The colour of the empty glass (`Absorbance.glass`).
    public var glass: (red: Float, green: Float, blue: Float)

    public init(width: Int, height: Int, objects: [DetectedObject], cellDiameter: Double, diameterEstimated: Bool,
                workingScale: Int, seams: Seams = Seams(columns: [], rows: []), outlineContrast: Double? = nil,
                backgroundTexture: Double? = nil, stain: StainRatios? = nil,
                glass: (red: Float, green: Float, blue: Float) = (255, 255, 255)) {
        self.width = width
        self.height = height
        self.objects = objects
        self.cellDiameter = cellDiameter
        self.diameterEstimated = diameterEstimated
        self.workingScale = workingScale
        self.seams = seams
        self.outlineContrast = outlineContrast
        self.backgroundTexture = backgroundTexture
        self.stain = stain
        self.glass = glass
    }

    /// Number of objects with each status.
    public func count(_ status: ObjectStatus) -> Int { objects.reduce(0) { $0 + ($1.status == status ? 1 : 0) } }
}

/// The colour of stained objects as ratios of their mean absorbance in the red and blue channels to
/// that in green (medians over objects; see `stainRatios`).
public struct StainRatios: Sendable, Equatable {
    public var redToGreen: Double
    public var blueToGreen: Double

    public init(redToGreen: Double, blueToGreen: Double) {
        self.redToGreen = redToGreen
        self.blueToGreen = blueToGreen
    }
}
