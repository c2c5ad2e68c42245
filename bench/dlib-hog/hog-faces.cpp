// The classic front end the issue compares against: dlib's HOG frontal face detector with one
// upsample (face_recognition's default `number_of_times_to_upsample=1`) and dlib's 68-point shape
// predictor on the original photo. A benchmark baseline only, never part of facepipe.
//
// Reads one image path per line on stdin; writes one JSON line per image on stdout:
//   {"file","width","height","decodeMs","detectMs","landmarksMs","faces":[{"box":[x,y,w,h],"score","points":[[x,y],…]}]}
// or {"file","error"}. Built by bench/_dlib-hog.ts against Debian's libdlib-dev; the model file
// comes from Debian's libdlib-data (/usr/share/dlib/shape_predictor_68_face_landmarks.dat).
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string jsonString(const std::string& s) {
  std::ostringstream out;
  out << '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') out << '\\' << c;
    else if (static_cast<unsigned char>(c) < 0x20) out << "\\u00" << "0123456789abcdef"[(c >> 4) & 0xf] << "0123456789abcdef"[c & 0xf];
    else out << c;
  }
  out << '"';
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string predictorPath = argc > 1 ? argv[1] : "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
  const int upsample = argc > 2 ? std::stoi(argv[2]) : 1;
  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
  dlib::shape_predictor predictor;
  try {
    dlib::deserialize(predictorPath) >> predictor;
  } catch (const std::exception& e) {
    std::cerr << "cannot load " << predictorPath << ": " << e.what() << "\n";
    return 2;
  }
  std::cout << "{\"ready\":true}" << std::endl;
  std::string path;
  while (std::getline(std::cin, path)) {
    if (path.empty()) continue;
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(3);
    try {
      auto t0 = std::chrono::steady_clock::now();
      dlib::array2d<dlib::rgb_pixel> img;
      dlib::load_image(img, path);
      const double decodeMs = msSince(t0);

      t0 = std::chrono::steady_clock::now();
      // As dlib's Python binding does for upsample_num_times: detect on the doubled image and map
      // the boxes back.
      dlib::array2d<dlib::rgb_pixel> up;
      std::vector<dlib::rect_detection> found;
      if (upsample > 0) {
        dlib::pyramid_down<2> pyr;
        dlib::assign_image(up, img);
        for (int i = 0; i < upsample; ++i) dlib::pyramid_up(up, pyr);
        detector(up, found, 0.0);
        for (auto& d : found) for (int i = 0; i < upsample; ++i) d.rect = pyr.rect_down(d.rect);
      } else {
        detector(img, found, 0.0);
      }
      const double detectMs = msSince(t0);

      t0 = std::chrono::steady_clock::now();
      std::vector<dlib::full_object_detection> shapes;
      shapes.reserve(found.size());
      for (const auto& d : found) shapes.push_back(predictor(img, d.rect));
      const double landmarksMs = msSince(t0);

      out << "{\"file\":" << jsonString(path) << ",\"width\":" << img.nc() << ",\"height\":" << img.nr()
          << ",\"decodeMs\":" << decodeMs << ",\"detectMs\":" << detectMs << ",\"landmarksMs\":" << landmarksMs << ",\"faces\":[";
      for (std::size_t i = 0; i < found.size(); ++i) {
        const auto& r = found[i].rect;
        out << (i ? "," : "") << "{\"box\":[" << r.left() << ',' << r.top() << ',' << r.width() << ',' << r.height()
            << "],\"score\":" << found[i].detection_confidence << ",\"points\":[";
        for (unsigned long p = 0; p < shapes[i].num_parts(); ++p) out << (p ? "," : "") << '[' << shapes[i].part(p).x() << ',' << shapes[i].part(p).y() << ']';
        out << "]}";
      }
      out << "]}";
    } catch (const std::exception& e) {
      out.str("");
      out << "{\"file\":" << jsonString(path) << ",\"error\":" << jsonString(e.what()) << "}";
    }
    std::cout << out.str() << std::endl;
  }
  return 0;
}
