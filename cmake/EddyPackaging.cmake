# The Debian package: `cpack -G DEB` in the build directory writes
# eddy_<version>_amd64.deb with everything `cmake --install` installs (the
# eddy and eddy-worker binaries, the handler SDK's headers and CMake package
# EddyFunctions) plus a systemd unit running `eddy serve` as the eddy user
# with its data in /var/lib/eddy (cmake/deb/: the unit and the maintainer
# scripts; postinst creates the user and the directory).
# tests/integration/test_package.py builds it and runs what it installs.
include(GNUInstallDirs)

install(FILES ${PROJECT_SOURCE_DIR}/cmake/deb/eddy.service
  DESTINATION lib/systemd/system
  COMPONENT eddy_service)

set(CPACK_PACKAGE_NAME eddy)
set(CPACK_PACKAGE_VENDOR "Eddy")
set(CPACK_PACKAGE_CONTACT "Eddy maintainers <eddy@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "DynamoDB-compatible database with change streams and C++ triggers")
set(CPACK_PACKAGE_DESCRIPTION
  "Eddy speaks DynamoDB's and DynamoDB Streams' JSON API (use it with the AWS \
CLI, boto3 and the AWS SDKs), records every change in per-shard stream logs \
and runs C++ handlers on them as Lambda-style triggers in sandboxed worker \
processes. This package holds the server (eddy, eddy-worker), the handler \
SDK (headers and the EddyFunctions CMake package) and a systemd unit.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # eddy_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries the binaries link (LevelDB, libuv, ZeroMQ, ...), as
# dpkg-shlibdeps finds them; adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# Building handlers against the SDK needs a compiler and CMake.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "cmake, g++")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/cmake/deb/postinst
  ${PROJECT_SOURCE_DIR}/cmake/deb/prerm
  ${PROJECT_SOURCE_DIR}/cmake/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
