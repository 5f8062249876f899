import Classifier
import ImageCodecs
import Segmentation

extension CellClassifier {
    /// `object`'s crop the way this classifier's model was trained on field cells: cut from `image` (the
    /// field it was found in) with the model's ring of context (`Preprocessing.context`; none for a
    /// model without one). Cost: that of `DetectedObject.crop(from:ring:)`.
    public func crop(of object: DetectedObject, in image: RGBImage) -> RGBImage {
        object.crop(from: image, context: model.preprocessing.context)
    }

    /// The Grad-CAM map of class `classIndex` for `object`, over the object's box: `object.width ×
    /// object.height` values in [0, 1], row-major, the map of `crop(of:in:)` with its ring cut off (what
    /// lies beside the cell raised or lowered the score too, but overlays and galleries draw the box).
    public func heatmap(of object: DetectedObject, in image: RGBImage, classIndex: Int) -> [Float] {
        let crop = crop(of: object, in: image), map = gradCAM(crop, classIndex: classIndex).heatmap
        let ring = (crop.width - object.width) / 2
        guard ring > 0 else { return map }
        var box = [Float](repeating: 0, count: object.width * object.height)
        for y in 0 ..< object.height {
            for x in 0 ..< object.width { box[y * object.width + x] = map[(y + ring) * crop.width + x + ring] }
        }
        return box
    }
}
