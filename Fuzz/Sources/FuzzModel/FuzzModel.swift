import Classifier
import FuzzSupport
import ImageCodecs

/// The model-file loader, `ModelFile.decode`. The last four bytes of every input of 20 bytes or more are
/// replaced by the CRC-32 of the rest, so that mutations reach the header and weight parsing instead of
/// stopping at the checksum (the checksum check itself is covered by the unit tests). A model that loads
/// and is small (input ≤ 64×64×3 values, ≤ 100,000 parameters) also classifies three crops (mid-grey-pink,
/// one white pixel, a black strip), which must give finite probabilities summing to 1, one per class name:
/// the loader promises that a model that decodes cannot overflow.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if bytes.count >= 20 {
        let crc = FuzzSupport.crc32(bytes.dropLast(4))
        let trailer = (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }  // little-endian
        bytes.replaceSubrange(bytes.count - 4 ..< bytes.count, with: trailer)
    }
    let model: Model
    do throws(ModelFileError) {
        model = try ModelFile.decode(bytes, name: "fuzz.smnet").0
    } catch {
        FuzzSupport.check(error.description.hasPrefix("fuzz.smnet: ") && FuzzSupport.isOneLine(error.description),
                          "error is not one line naming the file: \(error.description)")
        return 0
    }
    let network = model.network
    guard network.inputShape.count <= 64 * 64 * 3, network.parameterCount <= 100_000 else { return 0 }
    let crops = [RGBImage(width: 12, height: 9, fill: (200, 120, 140)),
                 RGBImage(width: 1, height: 1, fill: (255, 255, 255)), RGBImage(width: 40, height: 3)]
    let rows = CellClassifier(model: model).probabilities(crops)
    FuzzSupport.check(rows.count == crops.count && rows.allSatisfy { $0.count == model.classNames.count },
                      "wrong number of probabilities")
    for row in rows {
        FuzzSupport.check(row.allSatisfy(\.isFinite) && abs(row.reduce(0, +) - 1) < 1e-3,
                          "probabilities not finite or not summing to 1: \(row)")
    }
    return 0
}
