# cmake -DINPUT=file -DOUTPUT=file.cc -P EmbedText.cmake: writes DashboardHtml() returning INPUT.
file(READ ${INPUT} CONTENT HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," BYTES "${CONTENT}")
file(WRITE ${OUTPUT} "// Generated from dashboard.html by cmake/EmbedText.cmake.\n"
     "#include \"frontend/http/dashboard.h\"\n"
     "namespace switchyard::http {\nnamespace {\nconst unsigned char kPage[] = {${BYTES} 0};\n}\n"
     "std::string_view DashboardHtml() {\n"
     "  return {reinterpret_cast<const char*>(kPage), sizeof(kPage) - 1};\n}\n}\n")
