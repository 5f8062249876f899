/// Minimal, bounds-checked reading of a classic TIFF structure (header + IFD0), shared by the EXIF block
/// of JPEGs (which is TIFF-structured) and the TIFF decoder's dimension pre-check. Never traps: any read
/// outside `bytes` yields `nil`.
struct TIFFStructure {
    private let bytes: UnsafeRawBufferPointer
    private let littleEndian: Bool
    private var ifd0 = 0

    /// Fails unless `bytes` starts with `II*\0` or `MM\0*` and a first-IFD offset inside the buffer.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 8 else { return nil }
        switch (bytes[0], bytes[1]) {
        case (0x49, 0x49): littleEndian = true
        case (0x4D, 0x4D): littleEndian = false
        default: return nil
        }
        self.bytes = bytes
        guard u16(2) == 42, let offset = u32(4), offset >= 8, offset < bytes.count else { return nil }
        ifd0 = offset
    }

    /// The value of `tag` in IFD0 if it holds exactly one SHORT (type 3) or LONG (type 4).
    func value(of tag: Int) -> Int? {
        guard let entries = u16(ifd0) else { return nil }
        for index in 0..<entries {
            let entry = ifd0 + 2 + 12 * index
            guard let entryTag = u16(entry) else { return nil }
            guard entryTag == tag else { continue }
            guard u32(entry + 4) == 1 else { return nil }
            switch u16(entry + 2) {
            case 3?: return u16(entry + 8)  // a SHORT sits in the first two bytes of the value field
            case 4?: return u32(entry + 8)
            default: return nil
            }
        }
        return nil
    }

    private func u16(_ at: Int) -> Int? {
        guard at >= 0, at + 2 <= bytes.count else { return nil }
        return littleEndian ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : Int(bytes[at]) << 8 | Int(bytes[at + 1])
    }

    private func u32(_ at: Int) -> Int? {
        guard let a = u16(at), let b = u16(at + 2) else { return nil }
        return littleEndian ? a | b << 16 : a << 16 | b
    }
}
