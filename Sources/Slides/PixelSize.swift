/// Reading the physical pixel size from slide metadata.
enum PixelSize {
    /// Pixel sizes outside this range (µm per pixel) are taken as unknown: a microscope slide is scanned
    /// at about 0.08–1 µm/px, while the 72–1200 dpi that image editors and document scanners write
    /// by default mean 353–21 µm/px.
    static let plausibleMicrons: ClosedRange<Double> = 0.01...20

    /// `(x, y)` if both are finite and plausible, else `nil`.
    static func checked(_ x: Double?, _ y: Double?) -> (x: Double, y: Double)? {
        guard let x, let y, x.isFinite, y.isFinite, plausibleMicrons.contains(x), plausibleMicrons.contains(y)
        else { return nil }
        return (x, y)
    }

    /// µm per pixel from the TIFF tags ResolutionUnit (2 = inch, 3 = centimetre; 1 = no unit → `nil`),
    /// XResolution and YResolution (pixels per unit; YResolution defaults to XResolution).
    static func fromTIFF(unit: UInt16, x: Float?, y: Float?) -> (x: Double, y: Double)? {
        let micronsPerUnit: Double
        switch unit {
        case 2: micronsPerUnit = 25_400
        case 3: micronsPerUnit = 10_000
        default: return nil
        }
        guard let x, x > 0 else { return nil }
        let yResolution = y.flatMap { $0 > 0 ? $0 : nil } ?? x
        return checked(micronsPerUnit / Double(x), micronsPerUnit / Double(yResolution))
    }

    /// µm per pixel from the first `Pixels` element of OME-XML: `PhysicalSizeX`/`PhysicalSizeY` with
    /// their units `PhysicalSizeXUnit`/`PhysicalSizeYUnit` (default µm; nm, mm, cm, m and Å are
    /// converted; any other unit gives `nil`). A missing `PhysicalSizeY` is taken equal to X.
    static func fromOMEXML(_ xml: String) -> (x: Double, y: Double)? {
        guard let pixels = OMEXML.firstElement(named: "Pixels", in: xml),
              let x = physicalSize(pixels, axis: "X") else { return nil }
        return checked(x, physicalSize(pixels, axis: "Y") ?? x)
    }

    private static func physicalSize(_ attributes: [String: String], axis: String) -> Double? {
        guard let value = attributes["PhysicalSize\(axis)"].flatMap(Double.init) else { return nil }
        let scale: Double
        switch attributes["PhysicalSize\(axis)Unit"] ?? "µm" {
        case "µm", "μm", "um", "micron", "microns": scale = 1
        case "nm": scale = 1e-3
        case "Å": scale = 1e-4
        case "mm": scale = 1e3
        case "cm": scale = 1e4
        case "m": scale = 1e6
        default: return nil
        }
        return value * scale
    }
}

/// The little of OME-XML a slide reader needs, without an XML parser: OME-TIFF writers put the root
/// element `OME` (possibly with a namespace prefix) into the first ImageDescription, and the attributes
/// of `Pixels` are plain `name="value"` pairs.
enum OMEXML {
    /// Whether `description` is OME-XML: it holds a start tag `<OME` or `<prefix:OME` followed by a
    /// space, `>` or `/`.
    static func isOME(_ description: String) -> Bool {
        firstStartTag(named: "OME", in: description) != nil
    }

    /// The attributes of the first element with local name `name` (any prefix), or `nil`.
    static func firstElement(named name: String, in xml: String) -> [String: String]? {
        guard let tag = firstStartTag(named: name, in: xml) else { return nil }
        return attributes(of: tag)
    }

    /// The text of the first start tag `<name …>` or `<prefix:name …>`, from after the name to before `>`.
    private static func firstStartTag(named name: String, in xml: String) -> Substring? {
        var rest = xml[...]
        while let open = rest.firstIndex(of: "<") {
            rest = rest[rest.index(after: open)...]
            let nameEnd = rest.firstIndex { $0 == " " || $0 == ">" || $0 == "/" || $0 == "\n" || $0 == "\t" || $0 == "\r" }
                ?? rest.endIndex
            let tagName = rest[..<nameEnd]
            let local = tagName.split(separator: ":", omittingEmptySubsequences: false).last ?? tagName
            if local == name, nameEnd != rest.endIndex {
                let close = rest[nameEnd...].firstIndex(of: ">") ?? rest.endIndex
                return rest[nameEnd..<close]
            }
        }
        return nil
    }

    /// `name="value"` (or single-quoted) pairs of a start tag's text; entities are left as written.
    private static func attributes(of tag: Substring) -> [String: String] {
        var result: [String: String] = [:]
        var rest = tag
        while let equals = rest.firstIndex(of: "=") {
            let name = rest[..<equals].split(whereSeparator: { $0.isWhitespace }).last.map(String.init) ?? ""
            var after = rest[rest.index(after: equals)...].drop { $0.isWhitespace }
            guard let quote = after.first, quote == "\"" || quote == "'" else { break }
            after = after.dropFirst()
            guard let end = after.firstIndex(of: quote) else { break }
            if result[name] == nil { result[name] = String(after[..<end]) }
            rest = after[after.index(after: end)...]
        }
        return result
    }
}
