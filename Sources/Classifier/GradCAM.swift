import ImageCodecs
import NeuralNetwork

/// Grad-CAM (Selvaraju et al. 2017): the feature maps A_c of the last convolution block, weighted by
/// the spatial mean of ∂score/∂A_c, summed, rectified, scaled to [0, 1], and resampled bilinearly to the
/// crop (through the model's preprocessing geometry). `score` is the class logit.
public struct GradCAM: Sendable {
    /// `width × height` values in [0, 1], row-major, at crop resolution.
    public let heatmap: [Float]
    public let width: Int, height: Int

    /// Index of the layer whose output is used: the last convolution, or the last of the elementwise layers
    /// (BatchNorm, ReLU, dropout: `Layer.isElementwise`) that directly follow it, whose outputs are still its
    /// feature maps. Nil if the network has no convolution.
    public static func featureLayer(_ network: Network) -> Int? {
        let layers = network.layers
        guard var index = layers.lastIndex(where: { $0 is Conv2D }) else { return nil }
        while index + 1 < layers.count, layers[index + 1].isElementwise { index += 1 }
        return index
    }

    init(model: Model, input: Buffer, classIndex: Int, cropWidth: Int, cropHeight: Int) {
        let net = model.network
        guard let layer = Self.featureLayer(net) else {
            heatmap = [Float](repeating: 0, count: cropWidth * cropHeight); width = cropWidth; height = cropHeight
            return
        }
        net.forward(input.pointer, batch: 1, mode: .inference, keepActivations: true)
        let dLogits = Buffer(count: net.classes)
        dLogits[classIndex] = 1
        let grad = net.backward(input.pointer, dLogits: dLogits.pointer, batch: 1, mode: .inference, through: layer + 1)!
        let shape = net.layers[layer].outputShape, a = net.output(ofLayer: layer)
        let hw = shape.height * shape.width
        var cam = [Float](repeating: 0, count: hw)
        for c in 0 ..< shape.channels {
            var alpha: Float = 0
            for i in 0 ..< hw { alpha += grad[c * hw + i] }
            alpha /= Float(hw)
            for i in 0 ..< hw { cam[i] += alpha * a[c * hw + i] }
        }
        let top = cam.map { max($0, 0) }.max() ?? 0
        cam = cam.map { top > 0 ? max($0, 0) / top : 0 }
        heatmap = Self.toCrop(cam, shape.width, shape.height, input: net.inputShape, preprocessing: model.preprocessing,
                              cropWidth: cropWidth, cropHeight: cropHeight)
        width = cropWidth; height = cropHeight
    }

    /// Samples the `cw × ch` map at every crop pixel: crop → (padded square) → network input → map.
    private static func toCrop(_ cam: [Float], _ cw: Int, _ ch: Int, input: Shape, preprocessing: Preprocessing,
                               cropWidth: Int, cropHeight: Int) -> [Float] {
        var sx = Double(cropWidth), sy = Double(cropHeight), ox = 0.0, oy = 0.0
        if preprocessing.fit == .pad {
            let side = Double(max(cropWidth, cropHeight))
            ox = Double((max(cropWidth, cropHeight) - cropWidth) / 2); oy = Double((max(cropWidth, cropHeight) - cropHeight) / 2)
            sx = side; sy = side
        }
        var out = [Float](repeating: 0, count: cropWidth * cropHeight)
        for y in 0 ..< cropHeight {
            let v = min(max((Double(y) + oy + 0.5) / sy * Double(ch) - 0.5, 0), Double(ch - 1))
            let y0 = Int(v), y1 = min(y0 + 1, ch - 1), fy = Float(v - Double(y0))
            for x in 0 ..< cropWidth {
                let u = min(max((Double(x) + ox + 0.5) / sx * Double(cw) - 0.5, 0), Double(cw - 1))
                let x0 = Int(u), x1 = min(x0 + 1, cw - 1), fx = Float(u - Double(x0))
                let top = cam[y0 * cw + x0] * (1 - fx) + cam[y0 * cw + x1] * fx
                let bottom = cam[y1 * cw + x0] * (1 - fx) + cam[y1 * cw + x1] * fx
                out[y * cropWidth + x] = top * (1 - fy) + bottom * fy
            }
        }
        return out
    }

    /// The crop with the heatmap blended over it in a blue→green→yellow→red "jet" palette
    /// (`alpha` · colour + (1 − `alpha`) · crop). `crop` must have the heatmap's size.
    public func overlay(on crop: RGBImage, alpha: Float = 0.45) -> RGBImage {
        precondition(crop.width == width && crop.height == height)
        var out = crop
        for i in 0 ..< width * height {
            let t = heatmap[i]
            let colour = (min(max(1.5 - abs(4 * t - 3), 0), 1), min(max(1.5 - abs(4 * t - 2), 0), 1), min(max(1.5 - abs(4 * t - 1), 0), 1))
            out.pixels[3 * i] = UInt8(alpha * 255 * colour.0 + (1 - alpha) * Float(crop.pixels[3 * i]))
            out.pixels[3 * i + 1] = UInt8(alpha * 255 * colour.1 + (1 - alpha) * Float(crop.pixels[3 * i + 1]))
            out.pixels[3 * i + 2] = UInt8(alpha * 255 * colour.2 + (1 - alpha) * Float(crop.pixels[3 * i + 2]))
        }
        return out
    }
}
