rule aspx_file_manager
{
    meta:
        id = "shellward-yara-aspx-file-manager"
        title = "ASP.NET Page Writes Or Browses Files From The Request"
        description = "An ASP.NET page that saves uploaded files or writes files where the request says (SaveAs, File.WriteAll*, FileStream, StreamWriter with Request input), or lists the server's drives: ASPX uploaders and file managers"
        level = "high"
        attack = "attack.persistence, attack.t1505.003"
        author = "shellward"
    strings:
        $page = /<%@\s*(page|webhandler|webservice)\b/ nocase
        $req = /request\s*(\.\s*(form|querystring|params|item|files|headers))?\s*[\[\(]/ nocase
        $write_req = /(\.saveas|file\.writeall(text|bytes)|new\s+(system\.io\.)?(filestream|streamwriter))\s*\([^;]{0,160}(request|server\.mappath\s*\(\s*request)/ nocase
        $drives = /(directory\.getlogicaldrives|driveinfo\.getdrives|environment\.getlogicaldrives)\s*\(/ nocase
        $dirs = /(directory\.(getfiles|getdirectories)|new\s+directoryinfo)\s*\(\s*[^;)]{0,60}request/ nocase
    condition:
        $page and $req and ($write_req or $drives or $dirs)
}
