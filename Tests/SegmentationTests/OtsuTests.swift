import Testing
import Segmentation

@Suite struct OtsuTests {
    @Test func histogramThresholdSeparatesTwoModes() throws {
        // Two bumps centred on bins 60 and 180.
        var histogram = [Double](repeating: 0, count: 256)
        for offset in -10...10 {
            let weight = Double(11 - abs(offset))
            histogram[60 + offset] += 3 * weight
            histogram[180 + offset] += weight
        }
        let k = try #require(otsuThreshold(histogram: histogram))
        #expect(k >= 70 && k < 170)
    }

    @Test func valuesThresholdSeparatesTwoModes() {
        var rng = SeededGenerator(seed: 42)
        var values: [Float] = []
        for _ in 0..<2000 { values.append(Float.random(in: 0.05...0.15, using: &rng)) }
        for _ in 0..<700 { values.append(Float.random(in: 0.55...0.75, using: &rng)) }
        let t = values.withUnsafeBufferPointer { otsuThreshold($0, lower: -0.1, upper: 1) }
        #expect(t > 0.15 && t < 0.55)
        // Every value lands on its own side of the threshold.
        #expect(values.filter { $0 > t }.count == 700)
    }

    @Test func twoBinsSplitBetweenThem() {
        var histogram = [Double](repeating: 0, count: 256)
        histogram[10] = 5
        histogram[200] = 1
        let k = otsuThreshold(histogram: histogram)
        #expect(k.map { (10..<200).contains($0) } == true)
    }

    @Test func singleValueHasNoThreshold() {
        var histogram = [Double](repeating: 0, count: 256)
        histogram[77] = 1000
        #expect(otsuThreshold(histogram: histogram) == nil)
        #expect(otsuThreshold(histogram: [Double](repeating: 0, count: 256)) == nil)
    }

    @Test func singleValueFallsBackToTheMiddleOfTheRange() {
        let values = [Float](repeating: 0.3, count: 50)
        let t = values.withUnsafeBufferPointer { otsuThreshold($0, lower: 0, upper: 1) }
        #expect(t == 0.5)
    }
}
