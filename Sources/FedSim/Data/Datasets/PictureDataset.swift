import Foundation
import Tensors

extension ImageDataset {
  /// One picture (a PNG or JPEG file) as a one-image dataset, scaled and centre-cropped to `size`×`size`
  /// RGB, labelled 0 of `classes` classes: a teacher's own image for the classroom demo.
  public static func picture(_ path: String, size: Int = 32, classes: Int = 10) throws(DatasetError) -> ImageDataset {
    let image = try ImageFile.read(path)
    var rgb = image.pixels
    if image.channels == 1 { rgb = rgb + rgb + rgb }
    let native = ImageDataset(
      source: path, format: .imageFolder, channels: 3, height: image.height, width: image.width, pixels: rgb,
      labels: [0], classNames: (0..<classes).map { "class \($0)" })
    let x = native.images([0], transform: ImageTransform(resize: size, centerCrop: size))
    let bytes = x.scalars.map { UInt8((Swift.min(Swift.max($0, 0), 1) * 255).rounded()) }
    return ImageDataset(
      source: path, format: .imageFolder, channels: 3, height: size, width: size, pixels: bytes, labels: [0],
      classNames: native.classNames)
  }
}
