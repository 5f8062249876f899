/// How a slide file is stored, as found from its content (never its name).
public enum SlideFormat: Equatable, Sendable, CustomStringConvertible {
    /// A classic TIFF (32-bit offsets, files up to 4 GiB): tiled and/or pyramidal, or an image larger
    /// than a field in strips. Read with libtiff.
    case tiff
    /// A BigTIFF (64-bit offsets). Read with libtiff.
    case bigTIFF
    /// A TIFF or BigTIFF whose first ImageDescription is OME-XML; pyramid levels in SubIFDs. Read with
    /// libtiff.
    case omeTIFF(bigTIFF: Bool)
    /// A vendor format read through OpenSlide, with OpenSlide's vendor name: `aperio` (SVS),
    /// `hamamatsu` (NDPI, VMS, VMU), `mirax` (MRXS), `leica` (SCN), `ventana` (BIF), `philips`,
    /// `sakura`, `trestle`.
    case openSlide(vendor: String)

    /// "TIFF", "BigTIFF", "OME-TIFF", "OME-TIFF (BigTIFF)" or "OpenSlide aperio", for reports.
    public var description: String {
        switch self {
        case .tiff: "TIFF"
        case .bigTIFF: "BigTIFF"
        case .omeTIFF(let big): big ? "OME-TIFF (BigTIFF)" : "OME-TIFF"
        case .openSlide(let vendor): "OpenSlide \(vendor)"
        }
    }
}

/// One resolution of a slide's pyramid.
public struct SlideLevel: Equatable, Sendable {
    /// Size of the level in its own pixels.
    public let width: Int
    public let height: Int
    /// Level-0 pixels per pixel of this level (1 for level 0, about 2, 4, 8… below it): the mean of
    /// `width₀/width` and `height₀/height`, as OpenSlide computes it. A level's pixel (x, y) covers level-0
    /// pixels from about (x·downsample, y·downsample).
    public let downsample: Double
    /// The size of the blocks the level is stored in (tiles; for a TIFF in strips the full width and
    /// the rows per strip), when the file says. A region aligned to these blocks decodes nothing twice.
    public let tileWidth: Int?
    public let tileHeight: Int?

    public init(width: Int, height: Int, downsample: Double, tileWidth: Int?, tileHeight: Int?) {
        self.width = width
        self.height = height
        self.downsample = downsample
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
    }
}
