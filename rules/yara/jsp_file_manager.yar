rule jsp_file_manager
{
    meta:
        id = "shellward-yara-jsp-file-manager"
        title = "JSP Page Writes, Deletes Or Lists Files Named In The Request"
        description = "A JSP page that takes request parameters and writes files (FileOutputStream, FileWriter, RandomAccessFile), deletes them, lists the drives (File.listRoots) or walks directories: JSP file managers and uploaders"
        level = "high"
        attack = "attack.persistence, attack.t1505.003"
        author = "shellward"
    strings:
        $req = /request\s*\.\s*(getparameter|getinputstream|getparametervalues)\s*\(/ nocase
        $write = /new\s+(java\.io\.)?(fileoutputstream|filewriter|randomaccessfile|printwriter\s*\(\s*new\s+filewriter)\s*\(/ nocase
        $roots = /file\s*\.\s*listroots\s*\(/ nocase
        $delete = /\.delete\s*\(\s*\)/
        $list = /\.(listfiles|list)\s*\(\s*\)/
        $newfile = /new\s+(java\.io\.)?file\s*\(\s*(request\s*\.\s*getparameter|[a-z_]{1,20}\s*[,)])/ nocase
        $write_req = /new\s+(java\.io\.)?(fileoutputstream|filewriter|randomaccessfile)\s*\([^;]{0,160}request\s*\.\s*getparameter/ nocase
        $path_var = /(string\s+)?([a-z_]\w{0,20})\s*=\s*(new\s+string\s*\(\s*)?request\s*\.\s*getparameter\s*\(/ nocase
        $write_var = /new\s+(java\.io\.)?(fileoutputstream|filewriter)\s*\(\s*[a-z_]\w{0,20}\s*[,)]/ nocase
        $form = /<form\b/ nocase
        $upload = /request\s*\.\s*getinputstream\s*\(/ nocase
    condition:
        $req and ($roots or $write_req or ($newfile and ($write or $delete)) or ($write and $list)
            or ($path_var and $write_var) or ($write and $upload and $form))
}
