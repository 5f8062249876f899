/// The EXIF orientation of a JPEG (tag 0x0112 in IFD0 of the APP1 "Exif" segment) and its application.
///
/// Values follow the EXIF/TIFF definition: 1 = as stored, 2 = mirrored left–right, 3 = rotated 180°,
/// 4 = mirrored top–bottom, 5 = transposed (mirrored along the main diagonal), 6 = needs 90° clockwise
/// rotation, 7 = transversed (mirrored along the anti-diagonal), 8 = needs 90° counter-clockwise
/// rotation. 5–8 swap width and height.
enum EXIFOrientation {
    /// The orientation recorded in the JPEG `bytes`, 1 if there is none or it is unreadable or out of range.
    /// Scans only the marker segments before the first scan (SOS). Cost: O(number of segments).
    static func read(jpeg bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 2  // after SOI
        while offset + 4 <= bytes.count {
            guard bytes[offset] == 0xFF else { return 1 }
            let marker = bytes[offset + 1]
            if marker == 0xFF { offset += 1; continue }  // fill byte
            if marker == 0xDA || marker == 0xD9 { return 1 }  // start of scan / end of image
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length >= 2, offset + 2 + length <= bytes.count else { return 1 }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + 2 + length)])
            if marker == 0xE1, payload.starts(with: Array("Exif\0\0".utf8)) {
                let exif = TIFFStructure(UnsafeRawBufferPointer(rebasing: payload[6...]))
                guard let value = exif?.value(of: 0x0112), (1...8).contains(value) else { return 1 }
                return value
            }
            offset += 2 + length
        }
        return 1
    }

    /// `image` turned upright according to `orientation` (1–8). Cost: one pass and one new pixel buffer
    /// unless `orientation` is 1.
    static func apply(_ orientation: Int, to image: RGBImage) -> RGBImage {
        guard (2...8).contains(orientation) else { return image }
        let w = image.width, h = image.height
        let swaps = orientation >= 5
        let outWidth = swaps ? h : w, outHeight = swaps ? w : h
        // Source pixel index for output (x, y) = start + x·dx + y·dy (in pixels).
        let (start, dx, dy): (Int, Int, Int)
        switch orientation {
        case 2: (start, dx, dy) = (w - 1, -1, w)                 // mirror left–right
        case 3: (start, dx, dy) = (w * h - 1, -1, -w)            // rotate 180°
        case 4: (start, dx, dy) = ((h - 1) * w, 1, -w)           // mirror top–bottom
        case 5: (start, dx, dy) = (0, w, 1)                      // transpose: (x, y) ← (y, x)
        case 6: (start, dx, dy) = ((h - 1) * w, -w, 1)           // rotate 90° cw: (x, y) ← (y, h-1-x)
        case 7: (start, dx, dy) = (w * h - 1, -w, -1)            // transverse: (x, y) ← (w-1-y, h-1-x)
        default: (start, dx, dy) = (w - 1, w, -1)                // 8, rotate 90° ccw: (x, y) ← (w-1-y, x)
        }
        let count = outWidth * outHeight * 3
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            image.pixels.withUnsafeBufferPointer { src in
                var o = 0
                for y in 0..<outHeight {
                    var s = start + y * dy
                    for _ in 0..<outWidth {
                        out[o] = src[3 * s]; out[o + 1] = src[3 * s + 1]; out[o + 2] = src[3 * s + 2]
                        o += 3
                        s += dx
                    }
                }
            }
            initialized = count
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }
}
