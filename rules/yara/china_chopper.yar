rule china_chopper
{
    meta:
        id = "shellward-yara-china-chopper"
        title = "China Chopper Style One-Line Web Shell"
        description = "The short server side of China Chopper and its clients (AntSword, Cknife, Altman): a page that is little more than an eval of one request field, in ASPX (JScript, 'unsafe'), ASP, PHP or JSP"
        level = "critical"
        attack = "attack.persistence, attack.t1505.003"
        author = "shellward"
    strings:
        $aspx = /eval\s*\(\s*request\s*(\.\s*item)?\s*\[\s*["'][^"']{1,40}["']\s*\]\s*,\s*["']unsafe["']\s*\)/ nocase
        $asp = /<%\s*(execute|eval|executeglobal)\s*\(?\s*request\s*\(\s*["'][^"']{1,40}["']\s*\)\s*\)?\s*%>/ nocase
        $php = /<\?(php)?\s*@?\s*(eval|assert)\s*\(\s*\$_(POST|GET|REQUEST)\s*\[\s*["']?[^\]]{1,40}\]\s*\)\s*;?\s*\?>/ nocase
        $client = "z0=QGluaV9zZXQo"
    condition:
        filesize < 4KB and any of them
}
